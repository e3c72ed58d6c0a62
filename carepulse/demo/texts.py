"""Tweet texts from the vocabulary, filled with details that stay constant within a thread."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from carepulse.demo.clock import MINUTE, _local
from carepulse.demo.entities import _Agent, _Outage, _Thread, _User
from carepulse.demo.story import BUSINESS, THANKS_FIXED_THEMES, ReplyKind
from carepulse.demo.vocabulary import (
    ANGRY_EMOJI,
    BRAND_LINES,
    BROADCASTS,
    COUNTRIES,
    CUSTOMER_LINES,
    ISSUES,
    MONTHS_DE,
    MONTHS_EN,
    OUTAGE_OPENERS,
    POLITE_EMOJI,
    Bank,
    _Issue,
)


class _Slots(dict[str, str]):
    """Template values looked up on first use, so unused ones cost neither time nor randomness."""

    def __init__(self, lookup: Callable[[str], str], greeting: str) -> None:
        super().__init__(hi=greeting)
        self._lookup = lookup

    def __missing__(self, key: str) -> str:
        return self._lookup(key)


class _Texts:
    """Tweet texts from the vocabulary, filled with details that stay constant within a thread."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def customer(self, thread: _Thread, kind: str, ms: int, mentions: Sequence[_User]) -> str:
        body = self._fill(self._customer_line(thread, kind), thread, ms)
        body = self._decorate(body, thread.angry or kind == "nudge")
        prefix = " ".join(f"@{user.username}" for user in mentions)
        return f"{prefix} {body}"

    def brand(self, thread: _Thread, kind: ReplyKind, ms: int, agent: _Agent) -> str:
        template = self._pick(self._brand_bank(thread, kind), thread.lang)
        body = self._fill(template, thread, ms, greeting=self._greeting(thread))
        return f"@{thread.customer.username} {body} ^{agent.initials}"

    def _brand_bank(self, thread: _Thread, kind: ReplyKind) -> Bank:
        issue = thread.issue
        if issue is not None and kind in ("ask", "help", "follow_help"):
            return {"ask": issue.ask, "help": issue.help, "follow_help": issue.follow_help}[kind]
        if kind == "dm" and (thread.angry or (issue is not None and not issue.question and self._rng.random() < 0.5)):
            return BRAND_LINES["dm_sorry"]
        if kind == "escalate" and thread.theme not in ("Störung", "Mobilfunk", "Technik"):
            return BRAND_LINES["escalate_office"]
        return BRAND_LINES[kind]

    def broadcast(self, kind: str, outage: _Outage, ms: int, agent: _Agent, day: date | None = None) -> str:
        slots = {
            "region": outage.region,
            "service": outage.service,
            "cause": outage.cause,
            "device": outage.device,
            "eta": self._eta(outage),
            "date": day.strftime("%d.%m.") if day else "",
        }
        return BROADCASTS[kind].format(**slots) + f" ^{agent.initials}"

    def _customer_line(self, thread: _Thread, kind: str) -> str:
        issue = thread.issue
        if kind == "open":
            return self._opener(thread)
        if issue is not None and kind in ("details", "not_fixed"):
            return self._pick(issue.details if kind == "details" else issue.still, thread.lang)
        if kind == "thanks":
            if issue is not None and issue.question:
                return self._pick(CUSTOMER_LINES["thanks_info"], thread.lang)
            fixed = thread.theme in THANKS_FIXED_THEMES
            return self._pick(CUSTOMER_LINES["thanks_fixed" if fixed else "thanks"], thread.lang)
        return self._pick(CUSTOMER_LINES[kind], thread.lang)

    def _opener(self, thread: _Thread) -> str:
        rng = self._rng
        bank = thread.issue.opener if thread.issue is not None else OUTAGE_OPENERS[thread.theme]
        if thread.brand.username == BUSINESS and "business" in bank and rng.random() < 0.6:
            return rng.choice(bank["business"])
        if thread.lang == "en" and "en" in bank:
            return rng.choice(bank["en"])
        return rng.choice(bank["de_angry"] if thread.angry and "de_angry" in bank else bank["de"])

    def _pick(self, bank: Bank, lang: str) -> str:
        return self._rng.choice(bank.get(lang) or bank["de"])

    def _greeting(self, thread: _Thread) -> str:
        name = thread.customer.first_name
        english = thread.lang == "en"
        if thread.apology_due:
            apology = "Sorry for the wait" if english else "Sorry für die Wartezeit"
            return f"{apology}, {name}!" if name else f"{apology}!"
        if thread.first_response is not None:
            return ""
        if english:
            return f"Hi {name}," if name else "Hi there,"
        salutation = self._rng.choice(("Hallo", "Hallo", "Hi", "Moin"))
        return f"{salutation} {name}," if name else f"{salutation},"

    def _fill(self, template: str, thread: _Thread, ms: int, greeting: str = "") -> str:
        text = template.format_map(_Slots(functools.partial(self._slot, thread, ms), greeting))
        if template.startswith("{hi}") and not greeting.endswith(","):
            rest = text[len(greeting) :].lstrip()
            text = f"{greeting} {rest[:1].upper()}{rest[1:]}".lstrip()
        return text

    def _slot(self, thread: _Thread, ms: int, key: str) -> str:
        """A template value, drawn once per thread so an amount or a date stays the same in every tweet."""
        if key not in thread.slots:
            thread.slots.update(self._draw_slot(thread, ms, key))
        return thread.slots[key]

    def _draw_slot(self, thread: _Thread, ms: int, key: str) -> dict[str, str]:
        rng, outage, local = self._rng, thread.outage, _local(ms)
        if key in ("amount", "amount_en"):
            euros, cents = rng.randrange(5, 90), rng.choice(("00", "50", "99", "97"))
            return {"amount": f"{euros},{cents}", "amount_en": f"{euros}.{cents}"}
        if key in ("country", "country_en"):
            country, country_en = rng.choice(COUNTRIES)
            return {"country": country, "country_en": country_en}
        if key in ("date", "date_en"):
            moving = local + timedelta(days=rng.randrange(10, 45))
            return {"date": moving.strftime("%d.%m."), "date_en": f"{MONTHS_EN[moving.month - 1]} {moving.day}"}
        if key in ("month", "month_en"):
            previous = (local.month - 2) % 12
            return {"month": MONTHS_DE[previous], "month_en": MONTHS_EN[previous]}
        simple = {
            "city": lambda: thread.city,
            "router": lambda: thread.router,
            "region": lambda: outage.region if outage else thread.city,
            "device": lambda: outage.device if outage else "den Router",
            "hours": lambda: str(rng.randrange(2, 30)),
            "small_amount": lambda: rng.choice(("3", "4", "5", "2,50")),
            "eta": lambda: self._eta(outage),
            "fixed": lambda: _local(outage.end_ms).strftime("%H:%M") if outage else "",
        }
        return {key: simple[key]()}

    def _eta(self, outage: _Outage | None) -> str:
        if outage is None:
            return ""
        guess = outage.end_ms + self._rng.randrange(-60, 45) * MINUTE
        local = _local(guess)
        return f"{local.hour:02d}:{30 if local.minute >= 30 else 0:02d}"

    def _decorate(self, body: str, heated: bool) -> str:
        roll = self._rng.random()
        if heated and roll < 0.3:
            return f"{body} {self._rng.choice(ANGRY_EMOJI)}"
        if not heated and roll < 0.08:
            return f"{body} {self._rng.choice(POLITE_EMOJI)}"
        if roll > 0.97:
            return f"{body} #Nordfunk"
        return body


def _issue_for(rng: random.Random, theme: str, account: str, lang: str) -> _Issue:
    """An issue of the theme that this account's customers raise, in a language they can raise it in."""
    of_theme = [issue for issue in ISSUES if issue.theme == theme]
    suitable = [i for i in of_theme if account in i.audience and (lang == "de" or lang in i.opener)]
    return rng.choice(suitable or of_theme)
