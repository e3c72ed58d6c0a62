"""What the simulation is made of: users, agents, outages, arrivals, tweets and the threads they form."""

from __future__ import annotations

from dataclasses import dataclass, field

from carepulse.demo.story import LAST_PICK_BEFORE_SHIFT_END, THEME_CATEGORY, CustomerKind, ReplyKind
from carepulse.demo.vocabulary import _Issue


@dataclass(eq=False)
class _User:
    id: str
    username: str
    name: str
    first_name: str
    lang: str
    followers: int
    following: int
    tweet_count: int
    listed: int
    customer_number: str = ""
    home_city: str = ""


@dataclass(eq=False)
class _Agent:
    """A Social Care agent; ``accounts`` lists the brand queues served, preferred first."""

    first_name: str
    last_name: str
    accounts: tuple[str, ...]
    shifts: list[tuple[int, int]]
    free_at: int = 0
    shift_index: int = 0

    @property
    def initials(self) -> str:
        return self.first_name[0] + self.last_name[0]

    @property
    def crm_name(self) -> str:
        return f"{self.first_name[0]}. {self.last_name}"

    def can_start(self, now: int) -> bool:
        """Whether the agent is on shift with enough time left to pick up a tweet.

        Assumes ``now`` never decreases between calls, which the event loop guarantees.
        """
        while (
            self.shift_index < len(self.shifts) and self.shifts[self.shift_index][1] - LAST_PICK_BEFORE_SHIFT_END <= now
        ):
            self.shift_index += 1
        return self.shift_index < len(self.shifts) and self.shifts[self.shift_index][0] <= now


@dataclass(eq=False)
class _Outage:
    theme: str
    region: str
    service: str
    cause: str
    device: str
    start_ms: int
    end_ms: int
    threads: int
    broadcast: _Tweet | None = None


@dataclass(frozen=True)
class _Arrival:
    ms: int
    account: str
    theme: str
    outage: _Outage | None = None


@dataclass(eq=False)
class _Tweet:
    id: str
    ms: int
    author: _User
    text: str
    lang: str
    conversation_id: str
    parent: _Tweet | None
    stream: str
    mentions: tuple[_User, ...]
    impressions: int
    likes: int
    retweets: int
    quotes: int
    bookmarks: int
    replies: int = 0


@dataclass(eq=False)
class _Thread:
    """One customer's part of one conversation, and where it stands in the queue."""

    customer: _User
    brand: _User
    theme: str
    issue: _Issue | None
    lang: str
    angry: bool
    outage: _Outage | None
    turns_left: int
    ends_with_thanks: bool
    thanks_answered: bool
    city: str
    router: str
    tweets: list[_Tweet] = field(default_factory=list)
    joined: bool = False
    pending: _Tweet | None = None
    pending_kind: CustomerKind = "open"
    waiting: bool = False
    waiting_since: int = 0
    generation: int = 0
    nudged: bool = False
    apology_due: bool = False
    thanked: bool = False
    used_dm: bool = False
    last_brand: _Tweet | None = None
    last_brand_kind: ReplyKind | None = None
    first_response: _Tweet | None = None
    first_agent: _Agent | None = None
    slots: dict[str, str] = field(default_factory=dict)

    @property
    def started_ms(self) -> int:
        return self.tweets[0].ms

    @property
    def category(self) -> str:
        return THEME_CATEGORY[self.theme]
