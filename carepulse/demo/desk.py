"""The event-driven simulation of the Social Care desk: queue, agents, replies, broadcasts."""

from __future__ import annotations

import functools
import heapq
import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from carepulse.demo.clock import HOUR, MINUTE, _Calendar, _local, _local_ms, _minutes
from carepulse.demo.entities import _Agent, _Arrival, _Outage, _Thread, _Tweet, _User
from carepulse.demo.story import (
    ACCOUNTS,
    ANGRY_SHARE,
    BUSINESS_HELPS_WHEN_WAITING,
    CLOSING_REPLIES,
    COMPOSE_MEDIAN_MIN,
    CUSTOMER_ANSWER_TO,
    FIRST_ANSWERS,
    FIRST_TWEET_SKIP_SHARE,
    FOLLOW_UP_WORK_MEDIAN_MIN,
    MAIN,
    MAIN_AGENTS,
    SECOND_ANSWERS,
    SOLVING_REPLIES,
    CustomerKind,
    ReplyKind,
)
from carepulse.demo.texts import _issue_for, _Texts
from carepulse.demo.vocabulary import ROUTERS
from carepulse.demo.world import MAINTENANCE_PLANS, _World

QueueEntry = tuple[int, int, int, _Thread]


class _Desk:
    """Event-driven simulation of the Social Care desk.

    Customer tweets join a first-come-first-served queue per brand account; agents on shift
    pick the oldest waiting thread they serve, answer it, and are then busy with the DM and
    case work the answer triggers. Capacity is therefore fixed by the rota, which is what
    makes response times react to growth, outages and nights.
    """

    def __init__(self, rng: random.Random, world: _World, calendar: _Calendar) -> None:
        self._rng = rng
        self._world = world
        self._calendar = calendar
        self._texts = _Texts(rng)
        self._events: list[tuple[int, int, Callable[[], None]]] = []
        self._counter = 0
        self._now = calendar.start_ms
        self._queues: dict[str, list[QueueEntry]] = {account: [] for account in ACCOUNTS}
        self._waiting: dict[str, int] = dict.fromkeys(ACCOUNTS, 0)
        self._rotation = 0
        self.tweets: list[_Tweet] = []
        self.threads: list[_Thread] = []

    def run(self) -> None:
        self._schedule_world()
        end = self._calendar.end_ms
        while self._events:
            ms, _, action = heapq.heappop(self._events)
            if ms >= end:
                break
            self._now = ms
            action()
            self._dispatch()

    def _at(self, ms: int, action: Callable[[], None]) -> None:
        heapq.heappush(self._events, (ms, self._counter, action))
        self._counter += 1

    def _schedule_world(self) -> None:
        for arrival in self._world.arrivals:
            self._at(arrival.ms, functools.partial(self._open_thread, arrival))
        for agent in self._world.agents:
            for shift_start, _ in agent.shifts:
                self._at(shift_start, _idle)
        for outage in self._world.outages:
            self._at(outage.start_ms + 40 * MINUTE, functools.partial(self._outage_broadcast, outage, "start"))
            midway = outage.start_ms + int((outage.end_ms - outage.start_ms) * 0.45)
            self._at(midway, functools.partial(self._outage_broadcast, outage, "update"))
            self._at(outage.end_ms + 10 * MINUTE, functools.partial(self._outage_broadcast, outage, "resolved"))
        for fraction, weekday, region in MAINTENANCE_PLANS:
            day = self._calendar.at_fraction(fraction, weekday)
            announced = _local_ms(day, 17, 30) + self._rng.randrange(40 * MINUTE)
            self._at(announced, functools.partial(self._maintenance_broadcast, region, day))

    # --- customers

    def _open_thread(
        self, arrival: _Arrival, parent: _Tweet | None = None, kind: CustomerKind = "open", line: str = ""
    ) -> None:
        """A customer's first tweet in a conversation: a new one, or a reply to ``parent``."""
        avoid = parent.author if parent is not None else None
        customer = self._world.population.customer_for(arrival.account, avoid)
        thread = self._new_thread(customer, arrival)
        thread.joined = parent is not None
        mentions: tuple[_User, ...] = (self._world.brands[arrival.account],)
        if kind == "me_too" and parent is not None:
            mentions = (parent.author, *mentions)
        text = self._texts.customer(thread, line or kind, self._now, mentions)
        tweet = self._post(customer, text, thread.lang, parent, arrival.account, mentions, thread.angry)
        thread.tweets.append(tweet)
        self.threads.append(thread)
        self._enqueue(thread, tweet, kind)
        if kind == "open" and arrival.outage is not None and self._rng.random() < 0.07:
            delay = int(self._rng.expovariate(1 / (50 * MINUTE)))
            self._at(self._now + delay, functools.partial(self._open_thread, arrival, tweet, "me_too"))

    def _new_thread(self, customer: _User, arrival: _Arrival) -> _Thread:
        rng = self._rng
        turns = rng.choices((0, 1, 2, 3), weights=(50, 27, 14, 9))[0]
        if arrival.outage is not None:
            turns = rng.choices((0, 1, 2), weights=(45, 40, 15))[0]
        ordinary = arrival.outage is None
        return _Thread(
            customer=customer,
            brand=self._world.brands[arrival.account],
            theme=arrival.theme,
            issue=_issue_for(rng, arrival.theme, arrival.account, customer.lang) if ordinary else None,
            lang=customer.lang,
            angry=rng.random() < ANGRY_SHARE.get(arrival.theme, 0.28),
            outage=arrival.outage,
            turns_left=turns,
            ends_with_thanks=turns > 0 and rng.random() < (0.55 if arrival.outage else 0.45),
            thanks_answered=rng.random() < 0.3,
            city=customer.home_city,
            router=rng.choice(ROUTERS),
        )

    def _customer_turn(self, thread: _Thread, kind: CustomerKind) -> None:
        if thread.last_brand is None:
            return
        mentions = (thread.brand,)
        text = self._texts.customer(thread, kind, self._now, mentions)
        tweet = self._post(thread.customer, text, thread.lang, thread.last_brand, thread.brand.username,
                           mentions, thread.angry)  # fmt: skip
        thread.tweets.append(tweet)
        if kind == "thanks":
            thread.thanked = True
            if not thread.thanks_answered:
                return
        self._enqueue(thread, tweet, kind)

    def _enqueue(self, thread: _Thread, tweet: _Tweet, kind: CustomerKind) -> None:
        thread.pending, thread.pending_kind = tweet, kind
        thread.waiting, thread.waiting_since = True, self._now
        thread.generation += 1
        account = thread.brand.username
        heapq.heappush(self._queues[account], (self._now, self._counter, thread.generation, thread))
        self._counter += 1
        self._waiting[account] += 1
        impatient = self._rng.random() < (0.35 if thread.angry else 0.18)
        if impatient and kind not in ("thanks", "dm_sent") and not thread.nudged:
            patience = _minutes(self._rng, 150, 0.6)
            self._at(self._now + patience, functools.partial(self._nudge, thread, thread.generation))

    def _nudge(self, thread: _Thread, generation: int) -> None:
        """An impatient customer replies to their own tweet, unless they are asleep."""
        if not thread.waiting or thread.generation != generation or thread.pending is None:
            return
        if 0 <= _local(self._now).hour < 7:
            return
        mentions = (thread.brand,)
        text = self._texts.customer(thread, "nudge", self._now, mentions)
        tweet = self._post(thread.customer, text, thread.lang, thread.pending, thread.brand.username,
                           mentions, True)  # fmt: skip
        thread.tweets.append(tweet)
        thread.pending, thread.nudged, thread.apology_due = tweet, True, True

    # --- agents

    def _dispatch(self) -> None:
        if not any(self._waiting.values()):
            return
        agents = self._world.agents
        first = self._rotation % len(agents)
        self._rotation += 1
        for offset in range(len(agents)):
            agent = agents[(first + offset) % len(agents)]
            if agent.free_at > self._now or not agent.can_start(self._now):
                continue
            thread = self._next_thread(agent.accounts)
            while thread is not None and self._skips(thread):
                thread = self._next_thread(agent.accounts)
            if thread is not None:
                self._answer(agent, thread)

    def _next_thread(self, accounts: Sequence[str]) -> _Thread | None:
        """The oldest waiting thread of the agent's own queue; specialists help out elsewhere only
        when that queue is getting long."""
        for preference, account in enumerate(accounts):
            if preference > 0 and self._waiting[account] <= BUSINESS_HELPS_WHEN_WAITING:
                continue
            queue = self._queues[account]
            while queue:
                _, _, generation, thread = heapq.heappop(queue)
                if thread.waiting and thread.generation == generation:
                    thread.waiting = False
                    thread.generation += 1
                    self._waiting[account] -= 1
                    return thread
        return None

    def _skips(self, thread: _Thread) -> bool:
        """Under load agents triage: first tweets are passed over more often the longer the queue,
        which is where unanswered threads come from."""
        if thread.first_response is not None:
            return self._rng.random() < 0.02
        load = min(max((self._waiting[thread.brand.username] - 15) / 45, 0.0), 1.0)
        return self._rng.random() < FIRST_TWEET_SKIP_SHARE[thread.pending_kind] + 0.35 * load

    def _answer(self, agent: _Agent, thread: _Thread) -> None:
        compose = max(_minutes(self._rng, COMPOSE_MEDIAN_MIN, 0.5), MINUTE)
        reply_ms = self._now + compose + self._rng.randrange(1000)
        kind = self._reply_kind(thread, reply_ms)
        agent.free_at = reply_ms + _minutes(self._rng, FOLLOW_UP_WORK_MEDIAN_MIN[kind], 0.5)
        self._at(agent.free_at, _idle)
        if reply_ms >= self._calendar.end_ms or thread.pending is None:
            return
        text = self._texts.brand(thread, kind, reply_ms, agent)
        tweet = self._post(thread.brand, text, thread.lang, thread.pending, thread.brand.username,
                           (thread.customer,), False, at=reply_ms)  # fmt: skip
        thread.tweets.append(tweet)
        thread.last_brand, thread.last_brand_kind = tweet, kind
        thread.apology_due = False
        thread.used_dm = thread.used_dm or kind == "dm"
        if thread.first_response is None:
            thread.first_response, thread.first_agent = tweet, agent
        self._plan_next_turn(thread, kind, reply_ms)

    def _reply_kind(self, thread: _Thread, reply_ms: int) -> ReplyKind:
        pending = thread.pending_kind
        fixed_kinds: dict[CustomerKind, ReplyKind] = {
            "thanks": "welcome", "dm_sent": "dm_ack", "maintenance_question": "maintenance_answer",
        }  # fmt: skip
        if pending in fixed_kinds:
            return fixed_kinds[pending]
        if thread.outage is not None:
            if reply_ms >= thread.outage.end_ms:
                return "resolved_check"
            answered_before = thread.first_response is not None or pending == "broadcast_reply"
            return "eta" if answered_before else "outage_known"
        rng = self._rng
        if pending == "open":
            dm_share = 0.5 if thread.theme in ("Rechnung", "Vertrag", "Preis", "Umzug") else 0.25
            return rng.choices(FIRST_ANSWERS, weights=(dm_share, 0.35, 0.65 - dm_share))[0]
        if pending == "details":
            return rng.choices(SECOND_ANSWERS, weights=(0.5, 0.3, 0.2))[0]
        return "escalate" if thread.used_dm or rng.random() < 0.5 else "dm"

    def _plan_next_turn(self, thread: _Thread, brand_kind: ReplyKind, reply_ms: int) -> None:
        """Decide whether and when the customer writes again, and what about: thanks only after
        an answer that could have solved the problem, else the natural answer to the brand."""
        if thread.turns_left <= 0 or brand_kind in ("welcome", "maintenance_answer"):
            return
        thread.turns_left -= 1
        outage_news = thread.outage is not None and brand_kind in ("outage_known", "eta")
        solving = brand_kind in SOLVING_REPLIES or outage_news
        if solving and (thread.turns_left == 0 or brand_kind in CLOSING_REPLIES):
            thread.turns_left = 0
            if not thread.ends_with_thanks:
                return
            kind: CustomerKind = "thanks"
        else:
            kind = CUSTOMER_ANSWER_TO[brand_kind]
        after = reply_ms
        if kind == "thanks" and thread.outage is not None:
            after = max(after, thread.outage.end_ms)
        self._at(self._customer_reply_time(after), functools.partial(self._customer_turn, thread, kind))

    def _customer_reply_time(self, after: int) -> int:
        """Customers answer within minutes to hours, but mostly not in the middle of the night."""
        ms = after + max(_minutes(self._rng, 25, 1.1), MINUTE)
        local = _local(ms)
        if local.hour < 7 and self._rng.random() < 0.8:
            morning = _local_ms(local.date(), 7)
            ms = morning + self._rng.randrange(3 * HOUR)
        return ms

    # --- brand broadcasts

    def _on_duty(self) -> _Agent:
        for agent in self._world.agents[:MAIN_AGENTS]:
            if agent.can_start(self._now):
                return agent
        return self._world.agents[0]

    def _outage_broadcast(self, outage: _Outage, stage: str) -> None:
        brand = self._world.brands[MAIN]
        text = self._texts.broadcast(f"outage_{stage}", outage, self._now, self._on_duty())
        tweet = self._post(brand, text, "de", outage.broadcast, MAIN, (), False, broadcast=True)
        outage.broadcast = tweet
        replies = {"start": (8, 15), "update": (4, 9), "resolved": (2, 6)}[stage]
        for _ in range(self._rng.randint(*replies)):
            delay = int(self._rng.expovariate(1 / (45 * MINUTE)))
            arrival = _Arrival(self._now + delay, MAIN, outage.theme, outage)
            reply = functools.partial(self._open_thread, arrival, tweet, "broadcast_reply", f"reply_to_{stage}")
            self._at(arrival.ms, reply)

    def _maintenance_broadcast(self, region: str, day: date) -> None:
        brand = self._world.brands[MAIN]
        outage = _Outage("Wartung", region, "", "", "den Router", self._now, self._now, 0)
        text = self._texts.broadcast("maintenance", outage, self._now, self._on_duty(), day + timedelta(days=3))
        tweet = self._post(brand, text, "de", None, MAIN, (), False, broadcast=True)
        for _ in range(self._rng.randint(0, 3)):
            delay = int(self._rng.expovariate(1 / (90 * MINUTE)))
            arrival = _Arrival(self._now + delay, MAIN, "Wartung", outage)
            self._at(arrival.ms, functools.partial(self._open_thread, arrival, tweet, "maintenance_question"))

    # --- tweets

    def _post(
        self,
        author: _User,
        text: str,
        lang: str,
        parent: _Tweet | None,
        stream: str,
        mentions: tuple[_User, ...],
        loud: bool,
        *,
        at: int | None = None,
        broadcast: bool = False,
    ) -> _Tweet:
        ms = self._now if at is None else at
        if parent is not None:
            ms = max(ms, parent.ms + 1000)
        tweet_id = self._world.ids.at(ms)
        impressions, likes, retweets = _engagement(self._rng, author, loud, broadcast)
        tweet = _Tweet(
            id=tweet_id,
            ms=ms,
            author=author,
            text=text,
            lang=lang,
            conversation_id=parent.conversation_id if parent is not None else tweet_id,
            parent=parent,
            stream=stream,
            mentions=mentions,
            impressions=impressions,
            likes=likes,
            retweets=retweets,
            quotes=retweets // 4,
            bookmarks=self._rng.randrange(3) if broadcast else int(self._rng.random() < 0.05),
        )
        if parent is not None:
            parent.replies += 1
        self.tweets.append(tweet)
        return tweet


def _idle() -> None:
    """An event that exists only to let free agents look at the queue."""


def _engagement(rng: random.Random, author: _User, loud: bool, broadcast: bool) -> tuple[int, int, int]:
    """Impressions, likes and retweets: big angry accounts get noticed, brand replies barely."""
    if broadcast:
        impressions = rng.randrange(8_000, 40_000)
        return impressions, rng.randrange(10, 90), rng.randrange(15, 160)
    if author.username in ACCOUNTS:
        return rng.randrange(20, 400), int(rng.random() < 0.3), 0
    impressions = int(author.followers * rng.uniform(0.02, 0.3)) + rng.randrange(3, 60)
    likes = int(impressions * rng.uniform(0.0, 0.012 if loud else 0.005))
    retweets = int(likes * rng.uniform(0.1, 0.4)) if loud else 0
    return impressions, likes, retweets
