"""Seeded simulation of a six-month Twitter customer-service pilot for the embedded demo.

The demo has to run without API keys or real customer data, and it only convinces
management when its numbers tell a plausible story. So the generator does not draw
metrics; it simulates the mechanics that produce them, and the story follows:

* customers of the fictitious telco Nordfunk tweet around the clock along a daily curve,
  volume grows about 15 % a month, and three outages bring bursts of similar complaints;
* a flat team of twelve agents staffs the public desk by rota within the opening hours
  (Mon-Fri 08-20, Sat 09-16 Europe/Berlin) and works a first-come-first-served queue, so
  night tweets wait for the morning, Mondays carry the weekend, and response times
  worsen as volume outgrows the team;
* under load agents skip some first tweets, so unanswered threads cluster in overload
  weeks, and the queue is never empty when the data ends;
* customers answer, send DMs, nudge when ignored and sometimes thank at the end;
* the CRM export is derived from the same simulated threads (cases logged by the agent
  who answered, with the signature's initials), next to hotline, e-mail and chat cases;
* the export also reaches 26 weeks back before the launch (hotline, e-mail and chat only), and
  the launch took a known share of the hotline's calls (``HOTLINE_VOLUME_DROP``), so the
  before/after estimate of the hotline's volume has a true answer to be checked against.
* like every real input, the files hold a few broken records (a case typed wrong, a page
  cut off by a killed pull), so the demo shows the quarantine at work; they come on top of
  the story's records and change none of its numbers.

Everything random comes from one ``random.Random(seed)`` and nothing iterates over a
hash-ordered collection, so a seed always yields byte-identical files. The pre-launch history
has a generator of its own (``_history_rng``), so adding it left every pilot record as it was.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import functools
import heapq
import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

__all__ = ["ACCOUNTS", "CRM_HEADERS", "CRM_MAPPING_TOML", "DemoDefect", "DemoFiles", "generate_demo"]

ACCOUNTS: Final = ("nordfunk_hilft", "nordfunk_b2b")
MAIN, BUSINESS = ACCOUNTS

CRM_HEADERS: Final = (
    "Fallnummer",
    "Kanal",
    "Erstellt am",
    "Geschlossen am",
    "Ergebnis",
    "Kundennummer",
    "Twitter-Handle",
    "Tweet-ID",
    "Bearbeiter",
    "Team",
    "Kategorie",
    "Bearbeitungszeit (Min)",
    "Zufriedenheit",
    "Weiterempfehlung",
)

CRM_MAPPING_TOML: Final = """\
# Mapping of the Nordfunk CRM export onto carepulse's canonical case fields.
[source]
delimiter = ";"
decimal = ","
date_format = "%d.%m.%Y %H:%M"
timezone = "Europe/Berlin"

[columns]
case_id = "Fallnummer"
channel = "Kanal"
opened_at = "Erstellt am"
closed_at = "Geschlossen am"
outcome = "Ergebnis"
customer_ref = "Kundennummer"
twitter_handle = "Twitter-Handle"
conversation_id = "Tweet-ID"
agent = "Bearbeiter"
team = "Team"
category = "Kategorie"
handled_minutes = "Bearbeitungszeit (Min)"
csat = "Zufriedenheit"
nps = "Weiterempfehlung"

[values.channel]
"Twitter" = "twitter"
"Telefon" = "phone"
"E-Mail" = "email"
"Chat" = "chat"

[values.outcome]
"gelöst" = "resolved"
"nicht gelöst" = "unresolved"
"eskaliert" = "escalated"
"offen" = "open"
"Duplikat" = "duplicate"
"""

BERLIN: Final = ZoneInfo("Europe/Berlin")
TWITTER_EPOCH_MS: Final = 1288834974657
MINUTE: Final = 60_000
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR

CustomerKind = Literal[
    "open", "broadcast_reply", "me_too", "maintenance_question", "details", "dm_sent", "not_fixed", "how_long",
    "thanks",
]  # fmt: skip
"""What a customer tweet that waits in the queue asks for; decides the kind of the brand's reply."""
ReplyKind = Literal[
    "dm", "ask", "help", "follow_help", "escalate", "dm_ack", "eta", "outage_known", "resolved_check", "welcome",
    "maintenance_answer",
]  # fmt: skip
"""What a brand reply does; decides what, if anything, the customer says next."""

# --- Calibration: the knobs that shape the story --------------------------------------------
THREADS_PER_DAY_AT_START: Final = 16.0
MONTHLY_GROWTH: Final = 1.15
DAYS_PER_MONTH: Final = 30.44
BUSINESS_SHARE: Final = 0.10
ENGLISH_SHARE: Final = 0.12
REPEAT_CUSTOMER_SHARE: Final = 0.10
# Customer tweets by local hour; the night is quiet but never empty.
HOURLY_WEIGHT: Final = (
    0.9, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.8, 3.2, 4.2, 4.6, 4.5,
    4.2, 4.0, 4.0, 3.9, 3.8, 4.0, 4.3, 4.5, 4.3, 3.6, 2.6, 1.6,
)  # fmt: skip
WEEKDAY_WEIGHT: Final = (1.15, 1.05, 1.0, 1.0, 0.95, 0.8, 0.75)
MAIN_AGENTS: Final = 10
CRISIS_CREW: Final = 3
BUSINESS_HELPS_WHEN_WAITING: Final = 6
# A public reply takes a few minutes to write; the DM and case work it triggers keeps the
# agent away from the public queue much longer, which is what limits capacity. Outage
# answers are canned and cost almost nothing, so bursts are survivable.
COMPOSE_MEDIAN_MIN: Final = 4.0
FOLLOW_UP_WORK_MEDIAN_MIN: Final[dict[ReplyKind, float]] = {
    "dm": 22.0, "escalate": 15.0, "help": 13.0, "follow_help": 13.0, "ask": 8.0, "dm_ack": 4.0,
    "outage_known": 1.5, "eta": 1.5, "resolved_check": 1.5, "welcome": 0.5, "maintenance_answer": 1.5,
}  # fmt: skip
LAST_PICK_BEFORE_SHIFT_END: Final = 5 * MINUTE
CASE_SHARE: Final = {"dm": 0.55, "public": 0.24, "joined": 0.12}
PHONE_CASES_PER_TWITTER_CASE: Final = 3.0
EMAIL_CASES_PER_TWITTER_CASE: Final = 0.8
CHAT_CASES_PER_TWITTER_CASE: Final = 0.6
HOTLINE_VOLUME_DROP: Final = 0.2
"""The true effect of the launch: it took this share of the hotline's regular calls. Before the launch
the hotline ran at the pilot's regular rate / (1 - HOTLINE_VOLUME_DROP); e-mail and chat did not change."""
HISTORY_WEEKS: Final = 52
"""Weeks of hotline, e-mail and chat cases in the export before the pilot's first day."""
SURVEY_SHARE: Final = 0.32
NPS_SHARE_OF_SURVEYED: Final = 0.65
RECONTACT_SHARE: Final = 0.08

THEME_CATEGORY: Final = {
    "Störung": "Störung",
    "Mobilfunk": "Mobilfunk",
    "Rechnung": "Rechnung",
    "Vertrag": "Vertrag",
    "Preis": "Vertrag",
    "Technik": "Technik",
    "Umzug": "Umzug",
    "Ausfall DSL": "Störung",
    "Ausfall Mobilfunk": "Mobilfunk",
    "Ausfall Glasfaser": "Störung",
    "Wartung": "Störung",
}
THEME_WEIGHTS: Final = {
    MAIN: {"Störung": 25, "Mobilfunk": 19, "Rechnung": 18, "Vertrag": 14, "Technik": 14, "Umzug": 10},
    BUSINESS: {"Störung": 35, "Mobilfunk": 15, "Rechnung": 18, "Vertrag": 17, "Technik": 15},
}
FIRST_TWEET_SKIP_SHARE: Final = {"open": 0.04, "broadcast_reply": 0.3, "me_too": 0.2, "maintenance_question": 0.1}
"""Broadcast replies and "me too" tweets often need no answer, so they are passed over more."""
ANGRY_SHARE: Final = {"Ausfall DSL": 0.45, "Ausfall Mobilfunk": 0.45, "Ausfall Glasfaser": 0.45, "Preis": 0.5,
                      "Wartung": 0.05}  # fmt: skip
THANKS_FIXED_THEMES: Final = ("Störung", "Mobilfunk", "Ausfall DSL", "Ausfall Mobilfunk", "Ausfall Glasfaser")
SOLVING_REPLIES: Final[tuple[ReplyKind, ...]] = ("help", "follow_help", "dm_ack", "escalate", "resolved_check")
CLOSING_REPLIES: Final[tuple[ReplyKind, ...]] = ("dm_ack", "escalate", "resolved_check")
FIRST_ANSWERS: Final[tuple[ReplyKind, ...]] = ("dm", "ask", "help")
SECOND_ANSWERS: Final[tuple[ReplyKind, ...]] = ("follow_help", "dm", "escalate")
CUSTOMER_ANSWER_TO: Final[dict[ReplyKind, CustomerKind]] = {
    "dm": "dm_sent", "ask": "details", "help": "not_fixed", "follow_help": "not_fixed",
    "outage_known": "how_long", "eta": "how_long",
}  # fmt: skip


@dataclass(frozen=True)
class DemoDefect:
    """One record written broken on purpose, where the loader must quarantine it.

    Real exports always carry a few such records; the demo plants them so the Data page shows
    the quarantine keeping them with their reasons instead of an empty panel.
    """

    file: str
    """The file's name in the demo folder (``crm_export.csv`` or ``tweets.jsonl``)."""
    line: int
    """Its physical line, 1-based (the CRM header is line 1)."""
    what: str
    """What is wrong, in plain words."""


@dataclass(frozen=True)
class DemoFiles:
    """The files of one generated demo and the brand handles the loader must be told about."""

    tweets_jsonl: Path
    crm_csv: Path
    crm_mapping: Path
    accounts: tuple[str, ...]
    defects: tuple[DemoDefect, ...] = ()
    """The planted broken records, one quarantined record each, in file and line order."""


def generate_demo(out_dir: Path, seed: int = 7, months: int = 6, start: date = date(2026, 5, 4)) -> DemoFiles:
    """Simulate ``months`` of Nordfunk's Twitter support from ``start`` and write the demo inputs.

    Writes ``tweets.jsonl`` (twarc2 response pages), ``crm_export.csv`` (German CRM export)
    and ``crm_mapping.toml`` into ``out_dir``. The same arguments give byte-identical files.
    A few broken records are planted among the good ones (listed in ``DemoFiles.defects``); they
    are drawn after everything else, so the good records are the same as without them.
    The CRM export starts ``HISTORY_WEEKS`` weeks before ``start`` with the hotline, e-mail and chat
    cases of the time before the launch (see ``_history_rows``), then holds the pilot's cases.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    calendar = _Calendar(start, _add_months(start, months))
    world = _World.create(rng, calendar)
    desk = _Desk(rng, world, calendar)
    desk.run()
    tweets_jsonl, crm_csv = out_dir / "tweets.jsonl", out_dir / "crm_export.csv"
    pages = _tweet_lines(desk.tweets, world, calendar, rng)
    crm = _crm_cases(desk.threads, world, calendar, rng)
    cases = _numbered_cases(crm.cases, rng)
    pages, page_defects = _plant_cut_off_pages(pages, tweets_jsonl.name, rng)
    rows, case_defects = _plant_broken_cases(cases, crm_csv.name, rng)
    history = _history_rows(crm, calendar, _history_rng(seed), first_number=cases[0][0] if cases else 2_604_000)
    # The history's rows come first, so every broken pilot row sits that many lines further down.
    case_defects = [dataclasses.replace(d, line=d.line + len(history)) for d in case_defects]
    with tweets_jsonl.open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(line + "\n" for line in pages)
    _write_crm(crm_csv, history + rows)
    files = DemoFiles(
        tweets_jsonl=tweets_jsonl,
        crm_csv=crm_csv,
        crm_mapping=out_dir / "crm_mapping.toml",
        accounts=ACCOUNTS,
        defects=(*case_defects, *page_defects),
    )
    files.crm_mapping.write_text(CRM_MAPPING_TOML, encoding="utf-8")
    return files


# --- Time ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    """The simulated period: local dates in Europe/Berlin, bounds in UTC milliseconds."""

    first_day: date
    end_day: date

    @property
    def start_ms(self) -> int:
        return _local_ms(self.first_day, 0)

    @property
    def end_ms(self) -> int:
        return _local_ms(self.end_day, 0)

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day < self.end_day:
            yield day
            day += timedelta(days=1)

    def at_fraction(self, fraction: float, weekday: int) -> date:
        """The first ``weekday`` on or after ``fraction`` of the period, so planned events keep
        their place in the story whatever the period's length."""
        span = (self.end_day - self.first_day).days
        day = self.first_day + timedelta(days=int(span * fraction))
        return day + timedelta(days=(weekday - day.weekday()) % 7)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")


def _local_ms(day: date, hour: int, minute: int = 0) -> int:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)
    return int(moment.timestamp()) * 1000


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, BERLIN)


def _iso_utc(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def _german_timestamp(ms: int) -> str:
    return _local(ms).strftime("%d.%m.%Y %H:%M")


def _minutes(rng: random.Random, median: float, sigma: float) -> int:
    return int(rng.lognormvariate(math.log(median), sigma) * MINUTE)


def _poisson(rng: random.Random, mean: float) -> int:
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _weighted(rng: random.Random, weights: dict[str, int] | dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# --- Vocabulary ------------------------------------------------------------------------------

GERMAN_FIRST: Final = (
    "Jana", "Lena", "Marie", "Sophie", "Laura", "Anna", "Julia", "Sarah", "Katharina", "Nina",
    "Lisa", "Svenja", "Merle", "Hannah", "Emma", "Jonas", "Lukas", "Finn", "Leon", "Tim", "Jan",
    "Niklas", "Felix", "Moritz", "Tobias", "Sebastian", "Christian", "Thomas", "Michael", "Stefan",
    "Andreas", "Markus", "Sven", "Dirk", "Heike", "Sabine", "Petra", "Ute", "Birgit", "Kerstin",
    "Claudia", "Mehmet", "Ayşe", "Emre", "Fatma", "Can", "Elif", "Dimitri", "Olga", "Piotr",
    "Agnieszka", "Luca", "Giulia", "Ole", "Hauke", "Frauke", "Wiebke", "Malte", "Jannik", "Imke",
)  # fmt: skip
GERMAN_LAST: Final = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun",
    "Krüger", "Hartmann", "Lange", "Werner", "Krause", "Meier", "Lehmann", "Köhler", "Jansen",
    "Petersen", "Hansen", "Thomsen", "Ehlers", "Brandt", "Yılmaz", "Kaya", "Demir", "Öztürk",
    "Nowak", "Kowalski", "Popescu", "Rossi", "Carstensen", "Freese", "Harms", "Voß",
)  # fmt: skip
ENGLISH_FIRST: Final = (
    "James", "Emily", "Oliver", "Sophie", "Daniel", "Priya", "Arjun", "Lucas", "Chloe", "Mateo",
    "Sofia", "Liam", "Ava", "Ethan", "Olivia", "Noah", "Mia", "Ravi", "Ana", "Tom", "Kate", "Ben",
)  # fmt: skip
ENGLISH_LAST: Final = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Sharma", "Patel", "Martin",
    "Garcia", "Silva", "O'Brien", "Murphy", "Kim", "Nguyen", "Evans", "Walker", "Hughes",
)  # fmt: skip
NICKNAMES: Final = (
    "Nordlicht", "Elbkind", "Fischkopp", "Moinsen", "Kaffeetante", "Netzfrust", "Heidjer",
    "Kuestenkind", "Deichgraf", "Hafenliebe", "Pixelschubser", "Sofakartoffel", "Radlerin", "Landei",
)  # fmt: skip
NICKNAME_EMOJI: Final = ("🌊", "☕", "⚓", "🚲", "🌻", "🎧", "🐟", "")
BUSINESS_KINDS: Final = (
    ("Bäckerei", "baeckerei"), ("Praxis Dr.", "praxis"), ("Kanzlei", "kanzlei"), ("Autohaus", "autohaus"),
    ("Café", "cafe"), ("Friseur", "friseur"), ("Steuerbüro", "stb"), ("Physiotherapie", "physio"),
    ("Tischlerei", "tischlerei"), ("Elektro", "elektro"), ("Blumen", "blumen"), ("Hofladen", "hofladen"),
)  # fmt: skip
CITIES: Final = (
    "Hamburg", "Bremen", "Hannover", "Kiel", "Lübeck", "Oldenburg", "Osnabrück", "Rostock",
    "Schwerin", "Flensburg", "Braunschweig", "Göttingen", "Bielefeld", "Münster", "Lüneburg",
    "Celle", "Cuxhaven", "Emden", "Wolfsburg", "Wilhelmshaven", "Stade", "Husum",
)  # fmt: skip
ROUTERS: Final = ("FRITZ!Box 7590", "FRITZ!Box 5590 Fiber", "Nordfunk Box 3", "FRITZ!Box 7530 AX")
COUNTRIES: Final = (("Spanien", "Spain"), ("Italien", "Italy"), ("Kroatien", "Croatia"),
                    ("Frankreich", "France"), ("Dänemark", "Denmark"), ("Portugal", "Portugal"))  # fmt: skip
MONTHS_DE: Final = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                    "September", "Oktober", "November", "Dezember")  # fmt: skip
MONTHS_EN: Final = ("January", "February", "March", "April", "May", "June", "July", "August",
                    "September", "October", "November", "December")  # fmt: skip
ASCII: Final = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ı": "i",
     "ş": "s", "é": "e", "'": "", " ": "", ".": "", "-": ""}
)  # fmt: skip

Bank = dict[str, tuple[str, ...]]


def _bank(*german: str, en: tuple[str, ...] | str = ()) -> Bank:
    english = (en,) if isinstance(en, str) else en
    return {"de": german, "en": english} if english else {"de": german}


@dataclass(frozen=True)
class _Issue:
    """One kind of customer problem with everything both sides say about it, so threads stay on topic.

    ``opener`` holds first tweets by register: ``de``, ``de_angry``, ``en`` and ``business``.
    Only issues with an ``en`` opener are raised by English-speaking customers.
    """

    theme: str
    opener: Bank
    ask: Bank
    details: Bank
    help: Bank
    follow_help: Bank
    still: Bank
    question: bool = False
    audience: tuple[str, ...] = ACCOUNTS


ISSUES: Final = (
    _Issue(
        "Störung",
        {
            "de": ("Hallo, seit heute Morgen habe ich kein Internet mehr. Die DSL-Lampe am Router blinkt nur. "
                   "Könnt ihr mal schauen? Wohne in {city}.",
                   "Hi, mein DSL synchronisiert nicht mehr. Router schon zweimal neu gestartet. Habt ihr eine "
                   "Idee?"),
            "de_angry": ("Zum dritten Mal diese Woche kein Internet! Ich arbeite im Homeoffice und zahle für "
                         "100 Mbit. Einfach nur lächerlich.",
                         "Seit {hours} Stunden kein Internet und an der Hotline 45 Minuten Warteschleife. "
                         "Ernsthaft?!",
                         "Was ist eigentlich bei euch los? Internet weg, Telefon weg und keiner sagt was. #Störung"),
            "en": ("Hi, my internet has been down since this morning in {city}. The DSL light keeps blinking. "
                   "Can you check?",
                   "No internet for {hours} hours now and I work from home. This is really frustrating."),
            "business": ("Unser Büro in {city} ist seit heute früh ohne Internet und Telefon. Kunden erreichen "
                         "uns nicht!",
                         "Hallo, die Kartenzahlung in unserem Laden geht nicht, weil der Anschluss weg ist. Bitte "
                         "dringend prüfen."),
        },
        ask=_bank("{hi} sorry für den Ärger! Welche Lampen leuchten gerade am Router und hast du ihn schon "
                  "einmal vom Strom getrennt?",
                  en="{hi} sorry about that! Which lights are on at your router, and have you unplugged it once?"),
        details=_bank("Die Info-LED blinkt rot, die DSL-Lampe ist aus. Router ist eine {router}.",
                      "Ja, schon zweimal vom Strom getrennt. Die Kabel sitzen alle fest.",
                      en="It's a {router}, the DSL light is off. Already restarted it twice."),
        help=_bank("{hi} wir haben deinen Anschluss von hier aus neu synchronisiert. Starte den Router bitte "
                   "einmal neu, dann sollte es wieder laufen.",
                   "{hi} trenne den Router bitte für zwei Minuten vom Strom und prüfe, ob das Kabel fest in der "
                   "Dose steckt. Klappt es dann?",
                   en="{hi} please unplug your router for two minutes and check the cable in the wall socket. "
                   "Does it work then?"),
        follow_help=_bank("{hi} danke für die Infos! Wir haben einen Leitungstest gemacht und einen Fehler "
                          "gefunden. Ein Techniker meldet sich wegen eines Termins.",
                          en="{hi} thanks! We ran a line test and found a fault. A technician will contact you "
                          "for an appointment."),
        still=_bank("Hat leider nicht geholfen, immer noch kein Internet.", "Neustart gemacht, keine Änderung 😕",
                    en="Didn't help, still no internet."),
    ),
    _Issue(
        "Störung",
        {
            "de": ("Moin, bei uns in {city} ist das Internet seit gestern Abend extrem langsam. Statt 250 Mbit "
                   "kommen nur 12 an. Gibt es eine Störung?",
                   "Hallo Nordfunk, abends bricht bei uns in {city} regelmäßig die Leitung ein. Tagsüber alles "
                   "gut. Ist das bekannt?",
                   "Guten Morgen! Gibt es aktuell eine Störung in {city}? Das Internet bricht alle paar Minuten "
                   "ab."),
            "de_angry": ("Ich zahle jeden Monat pünktlich und bekomme dafür Dauerabbrüche. Wann wird das endlich "
                         "behoben?!",),
            "en": ("Is there an outage in {city}? My connection drops every few minutes.",
                   "Third evening in a row the internet is crawling. I pay for 250 Mbit. Seriously?"),
        },
        ask=_bank("{hi} misst du per WLAN oder per Kabel? Und zu welchen Uhrzeiten ist es besonders langsam?",
                  en="{hi} are you measuring over WiFi or cable? And at what times is it slowest?"),
        details=_bank("Per Kabel. Abends zwischen 19 und 23 Uhr kommen nur noch 10 bis 15 Mbit an.",
                      "Per LAN direkt am Router. Die Abbrüche kommen mehrmals pro Stunde.",
                      en="Over cable. Between 7 and 11 pm I only get 10 to 15 Mbit."),
        help=_bank("{hi} wir haben deinen Anschluss auf ein stabileres Profil umgestellt. Starte den Router "
                   "bitte einmal neu.",
                   "{hi} in {city} bauen wir gerade das Netz aus, abends kann es deshalb eng werden. Ab Ende des "
                   "Monats sollte es deutlich besser sein.",
                   en="{hi} we've switched your line to a more stable profile. Please restart your router once."),
        follow_help=_bank("{hi} danke! Wir sehen an deinem Port viele Fehler und haben einen Techniker "
                          "beauftragt. Er meldet sich wegen eines Termins.",
                          en="{hi} thanks! We see lots of errors on your port and have booked a technician. "
                          "They'll contact you."),
        still=_bank("Abends ist es immer noch genauso langsam.", en="Still just as slow in the evening."),
    ),
    _Issue(
        "Störung",
        {
            "de": ("Hallo zusammen, unser Glasfaser-Anschluss ist seit {hours} Stunden offline, das Modem "
                   "leuchtet rot. Was kann ich tun?",),
            "de_angry": ("Glasfaser haben sie gesagt. Zukunftssicher haben sie gesagt. Jetzt sitze ich seit "
                         "gestern ohne Netz da.",),
            "en": ("Our fibre connection has been offline for {hours} hours and the modem light is red. What can "
                   "I do?",),
        },
        ask=_bank("{hi} leuchtet am Glasfasermodem die LOS-Lampe rot? Und ist das Kabel irgendwo geknickt?",
                  en="{hi} is the LOS light on the fibre modem red? Is the cable bent anywhere?"),
        details=_bank("Ja, LOS leuchtet rot. Das Kabel sieht unbeschädigt aus.", en="Yes, LOS is red. The cable "
                      "looks fine."),
        help=_bank("{hi} ziehe das Glasfasermodem bitte für eine Minute vom Strom. Wenn LOS danach noch rot ist, "
                   "schicken wir einen Techniker.",
                   en="{hi} please unplug the fibre modem for a minute. If LOS is still red afterwards, we'll "
                   "send a technician."),
        follow_help=_bank("{hi} danke! Rotes LOS heißt: kein Licht auf der Faser. Ein Techniker ist beauftragt "
                          "und meldet sich heute noch.",
                          en="{hi} thanks! A red LOS means no light on the fibre. A technician is booked and "
                          "will call you today."),
        still=_bank("LOS ist immer noch rot.", en="LOS is still red."),
    ),
    _Issue(
        "Störung",
        {
            "de": ("Hallo, seit dem Gewitter gestern geht unser Festnetztelefon nicht mehr, Internet läuft aber. "
                   "Könnt ihr helfen?",),
            "en": ("Our landline has been dead since yesterday's storm, the internet works. Can you help?",),
        },
        ask=_bank("{hi} zeigt der Router unter 'Telefonie' deine Rufnummer als registriert an?",
                  en="{hi} does the router show your number as registered under 'Telephony'?"),
        details=_bank("Da steht 'nicht registriert'.", en="It says 'not registered'."),
        help=_bank("{hi} wir haben deine Rufnummern neu zugewiesen. Starte den Router bitte einmal neu, danach "
                   "sollte das Telefon wieder gehen.",
                   en="{hi} we've re-assigned your numbers. Please restart the router, the phone should work "
                   "again afterwards."),
        follow_help=_bank("{hi} danke! Wir haben die Telefonie-Zugangsdaten zurückgesetzt. Nach einem Neustart "
                          "sollte die Nummer wieder registriert sein.",
                          en="{hi} thanks! We've reset your telephony login. After a restart your number should "
                          "register again."),
        still=_bank("Telefon ist immer noch tot.", en="The phone is still dead."),
    ),
    _Issue(
        "Mobilfunk",
        {
            "de": ("Hallo, mein Handy zeigt seit heute früh nur noch 'Kein Netz' an. Neustart hilft nicht. Bin "
                   "in {city}.",),
            "de_angry": ("In der Innenstadt von {city} kein LTE, nur Edge. Und das 2026. Unfassbar.",),
            "en": ("No mobile signal at all in {city} since this morning. Is there a problem?",),
        },
        ask=_bank("{hi} welches Handy nutzt du und tritt das überall auf oder nur an einem Ort?",
                  en="{hi} which phone do you use, and does it happen everywhere or in one place?"),
        details=_bank("iPhone 15, aktuelle Software. Flugmodus an und aus habe ich schon probiert.",
                      "Pixel 8, nur zu Hause in {city}. In der Stadt geht es.",
                      en="iPhone 15, latest iOS. Airplane mode on and off didn't help."),
        help=_bank("{hi} wir haben deine SIM neu im Netz registriert. Starte das Handy bitte einmal neu.",
                   en="{hi} we've re-registered your SIM in the network. Please restart your phone once."),
        follow_help=_bank("{hi} danke! An einer Station in deiner Nähe wird gerade gebaut. Bis Freitag sollte "
                          "der Empfang wieder normal sein.",
                          en="{hi} thanks! A mast near you is being upgraded. Reception should be back to normal "
                          "by Friday."),
        still=_bank("Immer noch kein Netz.", en="Still no signal."),
    ),
    _Issue(
        "Mobilfunk",
        {
            "de": ("Moin, ich wollte meine eSIM aufs neue Handy übertragen und jetzt geht gar nichts mehr. Wie "
                   "bekomme ich einen neuen QR-Code?",),
            "de_angry": ("Seit fünf Tagen warte ich auf die Aktivierung meiner eSIM. Ich bin nicht erreichbar!",),
            "en": ("Trying to activate my eSIM for two days now. Still nothing. Can someone help?",),
        },
        ask=_bank("{hi} hast du die eSIM auf dem alten Gerät schon gelöscht?",
                  en="{hi} have you already deleted the eSIM on your old phone?"),
        details=_bank("Ja, die alte ist gelöscht. Das neue Handy ist ein Galaxy S24.",
                      en="Yes, the old one is deleted. The new phone is a Galaxy S24."),
        help=_bank("{hi} einen neuen eSIM-QR-Code kannst du in der Nordfunk-App unter 'Meine SIM' anfordern. Er "
                   "kommt per E-Mail.",
                   en="{hi} you can request a new eSIM QR code in the Nordfunk app under 'My SIM'. It comes by "
                   "e-mail."),
        follow_help=_bank("{hi} danke! Wir haben die alte eSIM gesperrt und ein neues Profil erzeugt. Der "
                          "QR-Code ist per E-Mail unterwegs.",
                          en="{hi} thanks! We've blocked the old eSIM and created a new profile. The QR code is "
                          "on its way by e-mail."),
        still=_bank("Der QR-Code ist da, aber die Aktivierung bricht wieder ab.",
                    en="Got the code, but the activation fails again."),
    ),
    _Issue(
        "Mobilfunk",
        {
            "de": ("Hallo, ich bin gerade in {country} und Roaming funktioniert nicht, obwohl es im Tarif drin "
                   "ist. Was muss ich einstellen?",),
            "de_angry": ("Roaming in {country} geht nicht und ich stehe hier ohne Navi. Danke für nichts.",),
            "en": ("Hi, I'm in {country_en} and roaming isn't working although my plan includes EU roaming. Any "
                   "idea?",),
        },
        ask=_bank("{hi} zeigt dein Handy ein Netz an und ist Daten-Roaming in den Einstellungen eingeschaltet?",
                  en="{hi} does your phone show a network, and is data roaming switched on?"),
        details=_bank("Netz ist da, Daten-Roaming ist an. Trotzdem kein Internet.",
                      en="The network shows up and data roaming is on. Still no internet."),
        help=_bank("{hi} wähle das Netz bitte einmal manuell aus und starte das Handy neu. Daten-Roaming muss "
                   "eingeschaltet sein.",
                   en="{hi} please select the network manually once and restart your phone. Data roaming must "
                   "be on."),
        follow_help=_bank("{hi} danke! Bei dir war die Roaming-Option versehentlich gesperrt. Wir haben sie "
                          "freigeschaltet, nach einem Neustart sollte es gehen.",
                          en="{hi} thanks! Roaming was blocked on your line by mistake. We've unblocked it, "
                          "restart your phone and it should work."),
        still=_bank("Habe ich gemacht, geht immer noch nicht.", en="Did that, still not working."),
    ),
    _Issue(
        "Mobilfunk",
        {
            "de": ("Hi, laut App ist mein Datenvolumen schon aufgebraucht, dabei habe ich kaum was gemacht. "
                   "Kann das stimmen?",),
            "en": ("The app says my data is used up, but I've barely used anything. Can that be right?",),
        },
        ask=_bank("{hi} nutzt du einen Hotspot oder laufen Backups über Mobilfunk?",
                  en="{hi} do you use a hotspot, or do backups run over mobile data?"),
        details=_bank("Nein, kein Hotspot. Backups laufen nur im WLAN.", en="No hotspot. Backups only run on WiFi."),
        help=_bank("{hi} in der App siehst du unter 'Verbrauch' die Nutzung pro Tag. Oft sind automatische "
                   "Updates über Mobilfunk der Grund.",
                   en="{hi} the app shows your daily usage under 'Usage'. Automatic updates over mobile data are "
                   "often the reason."),
        follow_help=_bank("{hi} danke! Wir haben nachgesehen: Da ist ein Zählfehler passiert. Wir schreiben dir "
                          "10 GB gut.",
                          en="{hi} thanks! We checked and found a counting error. We've added 10 GB to your "
                          "plan."),
        still=_bank("Da steht nichts Auffälliges, trotzdem ist alles weg.",
                    en="Nothing unusual there, but it's all gone anyway."),
    ),
    _Issue(
        "Mobilfunk",
        {
            "de": ("Hallo, wie lange dauert die Rufnummernmitnahme zu euch? Der alte Anbieter hat vor einer "
                   "Woche freigegeben.",),
            "business": ("Wir nehmen drei Firmennummern zu euch mit. Wann ist die Portierung durch?",),
        },
        ask=_bank("{hi} hast du schon eine Bestätigung mit Portierungstermin von uns bekommen?"),
        details=_bank("Nein, bisher kam nur die Auftragsbestätigung."),
        help=_bank("{hi} nach der Freigabe dauert die Mitnahme meist drei bis fünf Werktage. Den Termin bekommst "
                   "du per SMS."),
        follow_help=_bank("{hi} danke! Wir haben nachgefasst, der Portierungstermin ist am Donnerstag. Die SMS "
                          "kommt noch heute."),
        still=_bank("Die SMS ist immer noch nicht da."),
        question=True,
    ),
    _Issue(
        "Rechnung",
        {
            "de": ("Hallo, auf meiner Rechnung für {month} stehen {amount} € mehr als sonst. Wofür ist das?",),
            "de_angry": ("Schon wieder eine falsche Rechnung! {amount} € für einen Anschluss, der die halbe Zeit "
                         "nicht geht. Frechheit.",),
            "en": ("Hi, my bill for {month_en} is {amount_en} € higher than usual. What is this charge?",),
        },
        ask=_bank("{hi} um welche Position auf der Rechnung geht es genau?",
                  en="{hi} which item on the bill do you mean?"),
        details=_bank("Es geht um die Position 'Sonstige Leistungen' über {amount} €.",
                      en="It's the item 'other services', {amount_en} €."),
        help=_bank("{hi} das ist die anteilige Gebühr aus deinem Tarifwechsel. Ab nächstem Monat ist die Rechnung "
                   "wieder wie gewohnt.",
                   en="{hi} that's the pro-rata fee from your plan change. From next month your bill is back to "
                   "normal."),
        follow_help=_bank("{hi} danke! Die Position ist tatsächlich falsch. Wir haben eine Gutschrift "
                          "veranlasst, du siehst sie auf der nächsten Rechnung.",
                          en="{hi} thanks! That item is indeed wrong. We've arranged a credit, you'll see it on "
                          "your next bill."),
        still=_bank("Einen Tarifwechsel hatte ich aber gar nicht.", en="But I never changed my plan."),
    ),
    _Issue(
        "Rechnung",
        {
            "de": ("Hallo, ihr habt diesen Monat doppelt abgebucht. Wie bekomme ich das Geld zurück?",),
            "de_angry": ("Ihr bucht einfach {amount} € zu viel ab und an der Hotline weiß keiner was. Ich will "
                         "mein Geld zurück!",),
            "en": ("You charged me twice this month. How do I get a refund?",),
        },
        ask=_bank("{hi} an welchen Tagen wurde abgebucht und über welche Beträge?",
                  en="{hi} on which days were you charged, and how much?"),
        details=_bank("Die Abbuchung kam am 3. und dann nochmal am 5., beide über {amount} €.",
                      en="On the 3rd and again on the 5th, {amount_en} € each."),
        help=_bank("{hi} die doppelte Abbuchung kam durch einen Fehler bei der Bank. Der zweite Betrag wird "
                   "innerhalb von fünf Werktagen automatisch erstattet.",
                   en="{hi} the double charge was a bank error. The second amount is refunded automatically "
                   "within five working days."),
        follow_help=_bank("{hi} danke! Wir haben die Erstattung angestoßen, das Geld ist in zwei bis drei "
                          "Werktagen auf deinem Konto.",
                          en="{hi} thanks! We've started the refund, the money will be in your account in two "
                          "to three working days."),
        still=_bank("Das Geld ist immer noch nicht zurück.", en="The money still hasn't come back."),
    ),
    _Issue(
        "Rechnung",
        {
            "de": ("Hi, wo finde ich meine Rechnung als PDF? In der App kommt nur eine Fehlermeldung.",),
            "en": ("Where can I find my bill as a PDF? The app just shows an error.",),
            "business": ("Unsere Buchhaltung braucht die Rechnungen als PDF. Wo können wir die herunterladen?",),
        },
        ask=_bank("{hi} welche Fehlermeldung zeigt die App genau?", en="{hi} which error does the app show?"),
        details=_bank("'Dokument konnte nicht geladen werden'. iPhone, die App ist aktuell.",
                      en="'Document could not be loaded'. iPhone, latest app version."),
        help=_bank("{hi} deine Rechnungen findest du auch im Kundenportal unter 'Rechnungen'. Den Fehler in der "
                   "App beheben wir gerade.",
                   en="{hi} you'll also find your bills in the customer portal under 'Bills'. We're fixing the "
                   "app error right now."),
        follow_help=_bank("{hi} danke! Das ist ein bekannter Fehler der App-Version 5.2. Das Update kommt diese "
                          "Woche, bis dahin klappt es im Kundenportal.",
                          en="{hi} thanks! That's a known bug in app version 5.2. The update comes this week, "
                          "until then the portal works."),
        still=_bank("Im Portal steht auch nur 'nicht verfügbar'.", en="The portal just says 'not available' too."),
        question=True,
    ),
    _Issue(
        "Rechnung",
        {
            "de": ("Moin, ich habe eine Mahnung bekommen, obwohl ich längst bezahlt habe. Könnt ihr das prüfen?",),
            "de_angry": ("Mahnung mit Gebühr, obwohl ich pünktlich überwiesen habe. Geht's noch?",),
        },
        ask=_bank("{hi} wann hast du überwiesen und mit welchem Verwendungszweck?"),
        details=_bank("Am 12., als Verwendungszweck die Rechnungsnummer."),
        help=_bank("{hi} Überweisungen brauchen bis zu fünf Werktage, bis sie bei uns verbucht sind. Die Mahnung "
                   "kannst du dann ignorieren."),
        follow_help=_bank("{hi} danke! Wir haben die Zahlung gefunden und zugeordnet. Die Mahnung ist storniert, "
                          "Gebühren fallen keine an."),
        still=_bank("Jetzt kam schon die zweite Mahnung."),
    ),
    _Issue(
        "Rechnung",
        {"de": ("Hallo, die Gutschrift für den Ausfall im letzten Monat fehlt auf der Rechnung. Kommt die noch?",)},
        ask=_bank("{hi} wurde dir die Gutschrift damals schriftlich bestätigt?"),
        details=_bank("Ja, per E-Mail, über {amount} €."),
        help=_bank("{hi} Gutschriften erscheinen immer auf der übernächsten Rechnung. Sie kommt also nächsten "
                   "Monat."),
        follow_help=_bank("{hi} danke! Wir haben die Gutschrift nachgebucht, sie steht auf deiner nächsten "
                          "Rechnung."),
        still=_bank("Auf der neuen Rechnung ist sie auch nicht."),
    ),
    _Issue(
        "Vertrag",
        {
            "de": ("Hallo, ich möchte meinen Tarif auf 500 Mbit upgraden. Geht das auch ohne neue "
                   "Mindestlaufzeit?",),
            "en": ("I'd like to upgrade to 500 Mbit. Is that possible without a new minimum term?",),
        },
        ask=_bank("{hi} welchen Tarif hast du aktuell? Dann schauen wir, was an deiner Adresse möglich ist.",
                  en="{hi} which plan are you on? Then we'll check what's available at your address."),
        details=_bank("Ich habe Nordfunk Home 100 seit 2023.", en="I've had Nordfunk Home 100 since 2023."),
        help=_bank("{hi} das Upgrade kannst du direkt im Kundenportal buchen, die Laufzeit bleibt unverändert.",
                   en="{hi} you can book the upgrade in the customer portal, your term stays the same."),
        follow_help=_bank("{hi} danke! An deiner Adresse sind bis zu 500 Mbit verfügbar. Das Upgrade ist "
                          "gebucht, die Bestätigung kommt per E-Mail.",
                          en="{hi} thanks! Up to 500 Mbit are available at your address. The upgrade is booked, "
                          "the confirmation comes by e-mail."),
        still=_bank("Im Portal wird mir das Upgrade nicht angeboten.", en="The portal doesn't offer me the upgrade."),
        question=True,
        audience=(MAIN,),
    ),
    _Issue(
        "Vertrag",
        {
            "de": ("Hallo, wann läuft eigentlich meine Mindestlaufzeit ab? Finde das im Kundenportal nicht.",),
            "en": ("When does my minimum contract term end? I can't find it in the customer portal.",),
        },
        ask=_bank("{hi} geht es um deinen Internet- oder deinen Mobilfunkvertrag?",
                  en="{hi} is this about your internet or your mobile contract?"),
        details=_bank("Um den Internetvertrag.", en="The internet contract."),
        help=_bank("{hi} dein Vertragsende siehst du im Kundenportal unter 'Mein Vertrag' ganz oben.",
                   en="{hi} you'll find your contract end date in the customer portal under 'My contract'."),
        follow_help=_bank("{hi} danke! Dein Vertrag läuft bis zum 31.03., danach ist er monatlich kündbar.",
                          en="{hi} thanks! Your contract runs until 31 March, after that you can cancel "
                          "monthly."),
        still=_bank("Da steht bei mir nur 'unbefristet'.", en="It only says 'open-ended' for me."),
        question=True,
    ),
    _Issue(
        "Vertrag",
        {
            "de": ("Moin, ich habe vor drei Wochen gekündigt und noch keine Bestätigung bekommen. Ist die "
                   "angekommen?",),
            "de_angry": ("Ich will kündigen und ihr macht es mir so schwer wie möglich. Wo ist der "
                         "Kündigungsbutton?!",),
            "en": ("I cancelled three weeks ago and still have no confirmation. Did you get it?",),
        },
        ask=_bank("{hi} auf welchem Weg hast du gekündigt, per Brief oder über den Kündigungsbutton?",
                  en="{hi} how did you cancel, by letter or with the cancellation button?"),
        details=_bank("Per Einschreiben, den Rückschein habe ich.", en="By registered letter, I have the receipt."),
        help=_bank("{hi} den Kündigungsbutton findest du auf nordfunk.de ganz unten unter 'Vertrag kündigen'. "
                   "Die Bestätigung kommt sofort per E-Mail.",
                   en="{hi} the cancellation button is at the bottom of nordfunk.de under 'Cancel contract'. The "
                   "confirmation comes by e-mail right away."),
        follow_help=_bank("{hi} danke! Die Kündigung ist eingegangen und zum Vertragsende vorgemerkt. Die "
                          "Bestätigung ist per Post unterwegs.",
                          en="{hi} thanks! Your cancellation arrived and is set for the end of your term. The "
                          "confirmation is in the post."),
        still=_bank("Die Bestätigung ist immer noch nicht da.", en="Still no confirmation."),
    ),
    _Issue(
        "Vertrag",
        {"de": ("Hi, kann ich meinen Vertrag auf meine Frau umschreiben lassen?",
                "Hallo, mein Vater zieht ins Pflegeheim. Kann ich seinen Vertrag übernehmen?")},
        ask=_bank("{hi} wohnt ihr an derselben Adresse?"),
        details=_bank("Ja, gleiche Adresse.", "Nein, ich wohne in {city}."),
        help=_bank("{hi} ja, das geht mit dem Formular 'Vertragsübernahme' im Kundenportal. Ihr unterschreibt "
                   "beide, den Rest machen wir."),
        follow_help=_bank("{hi} danke! Dann schicken wir euch das Formular per E-Mail, die Übernahme dauert etwa "
                          "eine Woche."),
        still=_bank("Das Formular finde ich im Portal nicht."),
        question=True,
        audience=(MAIN,),
    ),
    _Issue(
        "Vertrag",
        {
            "de": ("Hallo, mir wurde bei der Verlängerung ein Rabatt von 5 € zugesagt, der fehlt aber auf der "
                   "Rechnung.",),
            "de_angry": ("Mir wurde am Telefon ein Rabatt versprochen, der nie auf der Rechnung auftaucht. So "
                         "nicht.",),
        },
        ask=_bank("{hi} weißt du noch, wann das Gespräch war?"),
        details=_bank("Das war Anfang {month}, die Zusage kam auch per SMS."),
        help=_bank("{hi} Rabatte starten mit dem nächsten vollen Abrechnungsmonat. Auf der kommenden Rechnung "
                   "ist er drauf."),
        follow_help=_bank("{hi} danke! Der Rabatt war nicht eingetragen. Das haben wir nachgeholt und dir die "
                          "Differenz gutgeschrieben."),
        still=_bank("Auf der neuen Rechnung fehlt er wieder."),
    ),
    _Issue(
        "Vertrag",
        {"de": ("Hallo, wir brauchen für unser Büro eine feste IP-Adresse. Geht das mit unserem Business-Tarif?",),
         "business": ("Wir brauchen für den Fernzugriff eine feste IP. Ist das bei uns buchbar?",)},
        ask=_bank("{hi} welchen Business-Tarif habt ihr aktuell?"),
        details=_bank("Business Internet 250."),
        help=_bank("{hi} ja, die feste IP kannst du im Business-Portal unter 'Optionen' für 5 € im Monat "
                   "dazubuchen."),
        follow_help=_bank("{hi} danke! Die feste IP ist gebucht und ab morgen aktiv."),
        still=_bank("Die Option wird uns im Portal nicht angezeigt."),
        question=True,
        audience=(BUSINESS,),
    ),
    _Issue(
        "Vertrag",
        {"de": ("Wir möchten drei weitere Mobilfunkkarten für Mitarbeitende dazubuchen. Wie geht das am "
                "schnellsten?",)},
        ask=_bank("{hi} sollen die Karten auf den bestehenden Rahmenvertrag laufen?"),
        details=_bank("Ja, gleicher Vertrag, gleicher Tarif."),
        help=_bank("{hi} weitere Karten könnt ihr im Business-Portal unter 'Mobilfunk' bestellen, sie sind in "
                   "zwei Tagen da."),
        follow_help=_bank("{hi} danke! Die drei Karten sind bestellt und gehen morgen raus."),
        still=_bank("Beim Bestellen kommt im Portal eine Fehlermeldung."),
        question=True,
        audience=(BUSINESS,),
    ),
    _Issue(
        "Preis",
        {
            "de": ("Hallo, ich habe einen Brief zur Preisanpassung bekommen. Gilt das auch mit "
                   "Festpreis-Garantie?",
                   "Hallo, ab wann gilt die neue Monatsgebühr genau? Und habe ich ein Sonderkündigungsrecht?",
                   "Moin, was genau ändert sich an meinem Tarif durch die Preisanpassung? Im Brief steht nur der "
                   "neue Betrag."),
            "de_angry": ("Ihr erhöht einfach den Preis um {small_amount} € im Monat? Ich möchte mein "
                         "Sonderkündigungsrecht nutzen.",
                         "Preiserhöhung mitten in der Laufzeit? Ernsthaft, Nordfunk?",
                         "Mehr zahlen für das gleiche wacklige Netz. Danke für den Brief, ich schaue mich nach "
                         "einem neuen Anbieter um."),
            "en": ("Hi, I got a letter about a price increase. Can I cancel my contract because of it?",),
        },
        ask=_bank("{hi} welchen Tarif hast du? Dann sagen wir dir, was sich genau ändert.",
                  en="{hi} which plan are you on? Then we can tell you what changes."),
        details=_bank("Ich habe Home 250, laut Brief ab nächstem Monat {small_amount} € mehr.",
                      en="I have Home 250, the letter says {small_amount} € more from next month."),
        help=_bank("{hi} die Anpassung gilt ab dem übernächsten Monat. Bis dahin hast du ein "
                   "Sonderkündigungsrecht, alle Infos stehen im Brief auf Seite 2.",
                   en="{hi} the new price applies from the month after next. Until then you can cancel, details "
                   "are on page 2 of the letter."),
        follow_help=_bank("{hi} danke! Mit Festpreis-Garantie bleibt dein Preis bis zum Ende der Garantie "
                          "gleich. Der Brief betrifft dich also noch nicht.",
                          en="{hi} thanks! With the fixed-price guarantee your price stays the same until it "
                          "ends, so the letter doesn't affect you yet."),
        still=_bank("Das beantwortet meine Frage nicht wirklich.", en="That doesn't really answer my question."),
        audience=(MAIN,),
    ),
    _Issue(
        "Technik",
        {
            "de": ("Hallo, mein WLAN ist im Obergeschoss total schwach. Habt ihr einen Repeater, der mit der "
                   "{router} funktioniert?",),
            "en": ("WiFi is really weak upstairs. Do you offer a mesh repeater that works with the {router}?",),
            "business": ("Im hinteren Teil unseres Ladens haben wir kaum WLAN. Gibt es dafür eine Lösung?",),
        },
        ask=_bank("{hi} wie viele Wände oder Decken liegen zwischen Router und dem Bereich?",
                  en="{hi} how many walls or floors are between the router and that area?"),
        details=_bank("Eine Etage, Betondecke dazwischen.", en="One floor, with a concrete ceiling."),
        help=_bank("{hi} ja, den Nordfunk Mesh Repeater kannst du im Kundenportal für 3 € im Monat mieten. Er "
                   "verbindet sich automatisch mit der {router}.",
                   en="{hi} yes, you can rent the Nordfunk Mesh Repeater for 3 € a month in the portal. It "
                   "pairs with the {router} automatically."),
        follow_help=_bank("{hi} danke! Bei einer Betondecke empfehlen wir zwei Repeater. Wir haben dir ein "
                          "Angebot per E-Mail geschickt.",
                          en="{hi} thanks! With a concrete ceiling we recommend two repeaters. We've sent you an "
                          "offer by e-mail."),
        still=_bank("Mit dem Repeater ist es kaum besser.", en="It's barely better with the repeater."),
        question=True,
    ),
    _Issue(
        "Technik",
        {
            "de": ("Moin, die {router} startet ständig neu. Ist das ein bekanntes Problem mit dem letzten "
                   "Update?",),
            "de_angry": ("Der neue Router ist Schrott. WLAN bricht jede Stunde ab. Schickt mir bitte einen, der "
                         "funktioniert!",),
            "en": ("Hi, my {router} keeps rebooting since the last firmware update. Known issue?",),
        },
        ask=_bank("{hi} welche Firmware läuft auf deiner {router}? Hast du schon einen Neustart probiert?",
                  en="{hi} which firmware is on your {router}? Have you tried a restart?"),
        details=_bank("Die Firmware ist aktuell, einen Werksreset habe ich noch nicht gemacht.",
                      "Ja, Neustart gemacht. Nach zehn Minuten geht es wieder los.",
                      en="Latest firmware, haven't tried a factory reset yet."),
        help=_bank("{hi} das Update 8.02 behebt die Neustarts. Du findest es in der Oberfläche unter "
                   "'System > Update'.",
                   en="{hi} firmware 8.02 fixes the reboots. You'll find it under 'System > Update'."),
        follow_help=_bank("{hi} danke! Setze das Gerät bitte einmal auf Werkseinstellungen zurück, die "
                          "Zugangsdaten werden automatisch geladen.",
                          en="{hi} thanks! Please reset the device to factory settings once, your login data "
                          "loads automatically."),
        still=_bank("Startet immer noch ständig neu.", en="Still rebooting all the time."),
    ),
    _Issue(
        "Technik",
        {
            "de": ("Hallo, wie richte ich bei der {router} eine Portfreigabe ein? Ich finde die Option nicht.",),
            "en": ("How do I set up port forwarding on the {router}? I can't find the option.",),
        },
        ask=_bank("{hi} steht in der Oberfläche unter 'Internet' eine öffentliche IPv4 oder DS-Lite?",
                  en="{hi} does the router show a public IPv4 or DS-Lite under 'Internet'?"),
        details=_bank("Da steht DS-Lite.", en="It says DS-Lite."),
        help=_bank("{hi} Portfreigaben findest du unter 'Internet > Freigaben'. Dein Anschluss braucht dafür "
                   "eine öffentliche IPv4, die schalten wir dir gern frei.",
                   en="{hi} port forwarding is under 'Internet > Permit access'. Your line needs a public IPv4 "
                   "for it, we're happy to enable one."),
        follow_help=_bank("{hi} danke! Wir haben dir eine öffentliche IPv4 freigeschaltet. Nach einem Neustart "
                          "des Routers klappt die Freigabe.",
                          en="{hi} thanks! We've enabled a public IPv4 for you. After a router restart the "
                          "forwarding will work."),
        still=_bank("Die Freigabe ist eingerichtet, aber es kommt nichts an.",
                    en="Forwarding is set up, but nothing gets through."),
        question=True,
    ),
    _Issue(
        "Technik",
        {
            "de": ("Hallo, im Paket mit dem neuen Router fehlt das Netzteil. Wie komme ich an eins?",),
            "de_angry": ("Drei Wochen auf den Router gewartet und jetzt kommt er ohne Netzteil. Wer packt bei "
                         "euch die Pakete?",),
        },
        ask=_bank("{hi} oh, sorry! Welches Gerät hast du bekommen?"),
        details=_bank("Die {router}."),
        help=_bank("{hi} sorry dafür! Wir schicken dir kostenlos ein Netzteil, es ist in zwei bis drei "
                   "Werktagen da."),
        follow_help=_bank("{hi} danke! Das Netzteil ist heute rausgegangen, die Sendungsnummer kommt per E-Mail."),
        still=_bank("Das Netzteil ist immer noch nicht da."),
    ),
    _Issue(
        "Technik",
        {
            "de": ("Hi, seit dem Routertausch klingelt unser Festnetztelefon nicht mehr. Was muss ich "
                   "einstellen?",),
            "business": ("Unsere Telefonanlage verliert seit dem Routertausch ständig die Registrierung. Wer "
                         "kann uns helfen?",),
        },
        ask=_bank("{hi} zeigt der Router unter 'Telefonie' die Rufnummern als registriert an?"),
        details=_bank("Die Nummern sind registriert, aber Anrufe kommen nicht an."),
        help=_bank("{hi} nach einem Tausch muss das Telefon einmal neu angemeldet werden: 'Telefonie > "
                   "Telefoniegeräte > Neues Gerät'."),
        follow_help=_bank("{hi} danke! Wir haben die Rufnummern auf den neuen Router umgezogen. Nach einem "
                          "Neustart sollten Anrufe wieder ankommen."),
        still=_bank("Anrufe kommen immer noch nicht an."),
    ),
    _Issue(
        "Umzug",
        {
            "de": ("Hallo, wir ziehen am {date} nach {city}. Kann ich meinen Anschluss mitnehmen?",),
            "en": ("Hi, we're moving to {city} next month. How do I take my contract to the new address?",),
        },
        ask=_bank("{hi} wie lautet die neue Adresse? Dann prüfen wir die Verfügbarkeit.",
                  en="{hi} what's the new address? Then we'll check availability."),
        details=_bank("Einzug ist am {date}, die Adresse schicke ich euch gleich. Es ist in {city}.",
                      en="We move on {date_en}, it's in {city}. I'll send the address."),
        help=_bank("{hi} melde den Umzug am besten sechs Wochen vorher im Kundenportal. Wir prüfen dann die "
                   "Verfügbarkeit an der neuen Adresse.",
                   en="{hi} please register your move in the customer portal about six weeks ahead. We'll "
                   "check availability at the new address."),
        follow_help=_bank("{hi} danke! An der neuen Adresse ist dein Tarif verfügbar. Wir haben den Umzug zum "
                          "{date} eingetragen.",
                          en="{hi} thanks! Your plan is available at the new address. We've booked the move for "
                          "{date_en}."),
        still=_bank("Im Portal kann ich das Datum nicht auswählen.", en="The portal won't let me pick the date."),
        question=True,
        audience=(MAIN,),
    ),
    _Issue(
        "Umzug",
        {
            "de": ("Hallo, ich habe den Umzug vor vier Wochen gemeldet und immer noch keinen Schalttermin. Was "
                   "ist da los?",),
            "de_angry": ("Seit drei Wochen in der neuen Wohnung und immer noch kein Internet. Umzugsservice? "
                         "Eher Umzugschaos.",),
            "en": ("Moved three weeks ago and still no internet at the new flat. When will the line be "
                   "switched?",),
        },
        ask=_bank("{hi} sorry für die Verzögerung! Hast du schon eine Auftragsbestätigung bekommen?",
                  en="{hi} sorry for the delay! Did you get an order confirmation?"),
        details=_bank("Ja, die Bestätigung kam, seitdem aber nichts mehr.",
                      en="Yes, the confirmation came, but nothing since."),
        help=_bank("{hi} dein Schalttermin ist am kommenden Dienstag, ein Techniker kommt zwischen 8 und 12 Uhr.",
                   en="{hi} your line will be switched next Tuesday, a technician comes between 8 and 12."),
        follow_help=_bank("{hi} danke! Der Auftrag hing beim Netzbetreiber. Wir haben ihn eskaliert, der Termin "
                          "kommt in den nächsten Tagen per SMS.",
                          en="{hi} thanks! The order was stuck with the network operator. We've escalated it, "
                          "the date comes by text in the next few days."),
        still=_bank("Es hat sich immer noch niemand gemeldet.", en="Still nobody has been in touch."),
        audience=(MAIN,),
    ),
    _Issue(
        "Umzug",
        {"de": ("Moin, in der neuen Wohnung in {city} sind laut Verfügbarkeitscheck nur 50 Mbit möglich. Komme "
                "ich aus dem Vertrag raus?",)},
        ask=_bank("{hi} welchen Tarif hast du gerade?"),
        details=_bank("Home 250."),
        help=_bank("{hi} wenn dein Tarif an der neuen Adresse nicht verfügbar ist, kannst du mit drei Monaten "
                   "Frist kündigen oder in einen passenden Tarif wechseln."),
        follow_help=_bank("{hi} danke! Wir stellen dich auf Home 50 um, ab dem Umzug zahlst du den günstigeren "
                          "Preis."),
        still=_bank("Das hilft mir nicht, ich brauche die Bandbreite."),
        question=True,
        audience=(MAIN,),
    ),
)  # fmt: skip

OUTAGE_OPENERS: Final[dict[str, Bank]] = {
    "Ausfall DSL": {
        "de": ("Ist in {region} gerade DSL komplett weg? Bei mir geht seit heute früh nichts mehr.",
               "Internet in {region} tot. Die Nachbarn haben auch nichts. Wisst ihr schon Bescheid?",
               "Störung in {region}? Der Router zeigt keine DSL-Synchronisation mehr.",
               "Seit heute früh kein Internet und kein Telefon in {region}. Gibt es eine Störung?"),
        "de_angry": ("Seit Stunden kein Internet in {region}. Homeoffice ade. Wann geht's wieder?",
                     "Na toll. Kein Internet in {region} und ausgerechnet heute habe ich ein wichtiges Meeting."),
        "en": ("Internet down in {region}? My neighbours have the same problem.",),
        "business": ("Unsere Praxis in {region} ist ohne Internet und Telefon. Patienten kommen nicht durch!",),
    },
    "Ausfall Mobilfunk": {
        "de": ("Kein Netz mehr in {region}! Geht das nur mir so?",
               "Seit einer Stunde kein Empfang in {region}. Gibt es eine Störung?",
               "Mobilfunk komplett weg, weder Anrufe noch Daten. Was ist da los?"),
        "de_angry": ("Kein Netz, keine Info, nichts. Ich kann nicht mal meine Familie anrufen. Toll gemacht, "
                     "Nordfunk.",
                     "Freitagabend und das komplette Handynetz ist tot. Wie kann sowas passieren?!"),
        "en": ("No mobile signal at all in {region}. Is the network down?",),
    },
    "Ausfall Glasfaser": {
        "de": ("Glasfaser in {region} seit Mittag weg. Die Baustelle vor der Tür hat wohl ein Kabel erwischt.",
               "Internet in {region} ist weg. Wann ist das repariert?",
               "Hallo, seit heute Mittag kein Internet in {region}. Betrifft das die ganze Straße?"),
        "de_angry": ("Über einen Tag ohne Internet in {region}. Ich brauche das für die Arbeit! Wann ist das "
                     "endlich erledigt?",),
        "en": ("Fibre internet down in {region} since noon. Any idea when it will be fixed?",),
    },
}  # fmt: skip

CUSTOMER_LINES: Final[dict[str, Bank]] = {
    "dm_sent": _bank("DM ist raus.", "Hab euch geschrieben 👍", "Ist per DM unterwegs.",
                     "Erledigt, die Kundennummer steht in der DM.", en=("Sent you a DM.", "Done, check your DMs.")),
    "how_long": _bank("Gibt es schon eine Prognose, wann es wieder geht?", "Und wie lange noch?",
                      "Immer noch nichts. Gibt's was Neues?", en="Any update? Still down here."),
    "nudge": _bank("Hallo? Ist da jemand?", "Wäre nett, wenn mal jemand antwortet.", "Seit Stunden keine Antwort…",
                   "Kommt hier noch was?", en=("Hello? Anyone there?", "Still waiting for an answer…")),
    "thanks_fixed": _bank("Danke, läuft wieder!", "Ist wieder da. Danke euch! 🙏",
                          "Alles wieder gut, danke für die schnelle Hilfe!", en="Thanks, it's working again!"),
    "thanks": _bank("Super, danke für die Hilfe!", "Perfekt, hat geklappt. Danke! 😊", "Danke, Problem gelöst.",
                    en=("All sorted, thank you!", "Perfect, thanks for the help!")),
    "thanks_info": _bank("Super, danke für die Info!", "Alles klar, vielen Dank!", "Perfekt, danke euch! 😊",
                         en=("Great, thanks for the info!", "Got it, thank you!")),
    "reply_to_start": _bank("Bei mir in {region} auch. Gibt es schon eine Prognose?",
                            "Danke für die Info. Wie lange dauert das ungefähr?",
                            "Auch betroffen. Gibt es dafür eine Gutschrift?",
                            "Endlich eine Info. Hätte man auch früher posten können.",
                            en="Same here in {region}. Any ETA?"),
    "reply_to_update": _bank("{eta} Uhr? Hoffentlich stimmt das diesmal.", "Gibt es für den Ausfall eine Gutschrift?",
                             "Und was mache ich bis dahin? Ich arbeite von zu Hause.",
                             en="Is there any compensation for the outage?"),
    "reply_to_resolved": _bank("Immer noch nichts bei mir. Ist das wirklich durch?",
                               "Gibt es für den Ausfall eine Gutschrift?", "Bei mir ist es immer noch extrem langsam.",
                               en="Still nothing here. Is it really fixed?"),
    "me_too": _bank("Bei mir auch, seit kurzem geht nichts mehr.", "Hier in {region} genauso.",
                    "Same hier. Die Nachbarn auch.", en="Same here."),
    "maintenance_question": _bank("Betrifft das auch {city}?", "Bin ich in {city} auch betroffen?",
                                  en="Does this affect {city} too?"),
}  # fmt: skip

BRAND_LINES: Final[dict[str, Bank]] = {
    "dm": _bank("{hi} das schauen wir uns gern genauer an. Schreib uns bitte eine DM mit deiner Kundennummer.",
                "{hi} dafür brauchen wir deine Vertragsdaten. Schreib uns bitte eine DM mit deiner Kundennummer und "
                "Anschrift.",
                en=("{hi} we need your account details for this. Please send us a DM with your customer number.",)),
    "dm_sorry": _bank("{hi} das klingt ärgerlich, sorry! Schreib uns bitte eine DM mit deiner Kundennummer, dann "
                      "prüfen wir das.",
                      en="{hi} sorry about that! Please send us a DM with your customer number and we'll look into "
                      "it."),
    "dm_ack": _bank("{hi} danke dir, deine DM ist angekommen. Wir antworten dir dort.",
                    "{hi} ist angekommen, wir melden uns per DM.", en="{hi} thanks, got it! We'll reply in DM."),
    "escalate": _bank("{hi} das tut uns leid. Wir haben das an unsere Technik gegeben, die Kollegen melden sich "
                      "direkt bei dir.",
                      en="{hi} sorry to hear that. We've passed this to our technical team, they'll contact you "
                      "directly."),
    "escalate_office": _bank("{hi} sorry, dass es immer noch hakt. Wir haben ein Ticket bei der Fachabteilung "
                             "eröffnet und melden uns, sobald es Neuigkeiten gibt.",
                             en="{hi} sorry it's still not sorted. We've opened a ticket with the team in charge "
                             "and will get back to you."),
    "eta": _bank("{hi} die Techniker rechnen mit einer Behebung bis etwa {eta} Uhr. Danke für deine Geduld!",
                 "{hi} es gibt noch keine genaue Prognose, die Kollegen sind aber vor Ort. Wir melden uns!",
                 en="{hi} our engineers expect a fix by about {eta}. Thanks for your patience!"),
    "outage_known": _bank("{hi} in {region} gibt es leider gerade eine Störung. Unsere Technik arbeitet mit "
                          "Hochdruck daran, wir halten dich auf dem Laufenden.",
                          "{hi} sorry für den Ärger! Die Störung in {region} ist bekannt, die Kollegen sind dran. "
                          "Updates gibt's in unserem angepinnten Tweet.",
                          en="{hi} sorry for the trouble! There's a known outage in {region} and our engineers "
                          "are on it. We'll keep you posted."),
    "resolved_check": _bank("{hi} die Störung in {region} ist seit {fixed} Uhr behoben. Läuft es bei dir wieder? "
                            "Sonst starte {device} bitte einmal neu.",
                            en="{hi} the outage in {region} was fixed at {fixed}. Is everything working again? "
                            "If not, please restart your device."),
    "welcome": _bank("Sehr gerne! Schönen Tag noch 😊", "Freut uns! Melde dich jederzeit, wenn noch was ist.",
                     "Super, danke für die Rückmeldung!", en="You're welcome! Have a great day 😊"),
    "maintenance_answer": _bank("{hi} die Arbeiten betreffen nur den Raum {region}. In {city} solltest du nichts "
                                "merken.",
                                en="{hi} the works only affect the {region} area. You shouldn't notice anything in "
                                "{city}."),
}  # fmt: skip

BROADCASTS: Final = {
    "outage_start": "Störungsmeldung: In {region} kommt es aktuell zu Ausfällen bei {service}. Unsere Technik "
    "ist informiert und arbeitet an der Behebung. Updates hier im Thread.",
    "outage_update": "Update zur Störung in {region}: Ursache ist {cause}. Wir rechnen mit einer Behebung bis "
    "etwa {eta} Uhr.",
    "outage_resolved": "Die Störung in {region} ist behoben. Falls es bei dir noch hakt, starte {device} bitte "
    "einmal neu. Danke für eure Geduld!",
    "maintenance": "Geplante Wartungsarbeiten: In der Nacht zum {date} kann es zwischen 1 und 5 Uhr im Raum "
    "{region} zu kurzen Unterbrechungen kommen.",
}
ANGRY_EMOJI: Final = ("😡", "🙄", "😤", "🤬", "😠")
POLITE_EMOJI: Final = ("🙏", "🙂", "😊")


# --- People ----------------------------------------------------------------------------------


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


SOCIAL_CARE: Final = (
    ("Anna", "Becker"), ("Jonas", "Hoffmann"), ("Mira", "Schulz"), ("Lukas", "Neumann"),
    ("Sophie", "Wagner"), ("Timo", "Krause"), ("Elif", "Demir"), ("Paul", "Richter"),
    ("Nina", "Vogel"), ("Deniz", "Arslan"), ("Katrin", "Lorenz"), ("Felix", "Brandt"),
)  # fmt: skip
Window = tuple[tuple[int, int], tuple[int, int]]
WEEKDAY_DESK: Final[tuple[Window, ...]] = (
    ((8, 0), (12, 0)), ((12, 0), (16, 0)), ((16, 0), (20, 0)),
    ((9, 30), (12, 30)), ((17, 0), (20, 0)),
)  # fmt: skip
SATURDAY_DESK: Final[tuple[Window, ...]] = (((9, 0), (16, 0)), ((10, 0), (13, 0)))
BUSINESS_DESK: Final[tuple[Window, ...]] = (((8, 0), (14, 0)), ((14, 0), (20, 0)))
OPEN_HOURS: Final = {5: (9, 16)} | dict.fromkeys(range(5), (8, 20))


def _agents(calendar: _Calendar, outages: Sequence[_Outage]) -> list[_Agent]:
    """The Social Care team and its public-desk rota.

    The team's day is mostly DMs and cases; the public desk is one agent at a time, two at the
    morning and evening peaks, with positions rotating daily through the ten generalists. Two
    business specialists cover ``@nordfunk_b2b`` on weekdays. During an outage a crisis
    crew joins the desk on weekdays, so a Friday-evening outage still swamps the weekend.
    """
    shifts: list[list[tuple[int, int]]] = [[] for _ in SOCIAL_CARE]
    for day_index, day in enumerate(calendar.days()):
        for agent, window in _desk_positions(day, day_index, (day - calendar.first_day).days // 7):
            (start_h, start_m), (end_h, end_m) = window
            shifts[agent].append((_local_ms(day, start_h, start_m), _local_ms(day, end_h, end_m)))
    for number, outage in enumerate(outages):
        for member in range(CRISIS_CREW):
            shifts[(3 * member + number) % MAIN_AGENTS] += _crisis_shifts(outage)
    return [
        _Agent(first, last, (BUSINESS, MAIN) if index >= MAIN_AGENTS else (MAIN,), _merged(shifts[index]))
        for index, (first, last) in enumerate(SOCIAL_CARE)
    ]


def _desk_positions(day: date, day_index: int, week: int) -> list[tuple[int, Window]]:
    weekday = day.weekday()
    if weekday == 6:
        return []
    if weekday == 5:
        return [((5 * slot + week) % MAIN_AGENTS, window) for slot, window in enumerate(SATURDAY_DESK)]
    main = [((2 * slot + 3 * day_index) % MAIN_AGENTS, window) for slot, window in enumerate(WEEKDAY_DESK)]
    business = [(MAIN_AGENTS + (slot + week) % 2, window) for slot, window in enumerate(BUSINESS_DESK)]
    return main + business


def _crisis_shifts(outage: _Outage) -> list[tuple[int, int]]:
    """Weekday opening hours from half an hour after the outage began until two hours after its end."""
    begin, finish = outage.start_ms + 30 * MINUTE, outage.end_ms + 2 * HOUR
    shifts = []
    day = _local(begin).date()
    while _local_ms(day, 0) < finish:
        if day.weekday() < 5:
            opening, closing = OPEN_HOURS[day.weekday()]
            start, end = max(begin, _local_ms(day, opening)), min(finish, _local_ms(day, closing))
            if start < end:
                shifts.append((start, end))
        day += timedelta(days=1)
    return shifts


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class _Population:
    """Customers, created on first contact and sometimes coming back with a new problem."""

    def __init__(self, rng: random.Random, ids: _Snowflakes) -> None:
        self._rng = rng
        self._ids = ids
        self._handles: dict[str, None] = {}
        self._customer_numbers: dict[str, None] = {}
        self._pools: dict[str, list[_User]] = {MAIN: [], BUSINESS: []}

    def customer_for(self, account: str, avoid: _User | None = None) -> _User:
        pool = self._pools[account]
        if pool and self._rng.random() < REPEAT_CUSTOMER_SHARE:
            returning = self._rng.choice(pool)
            if returning is not avoid:
                return returning
        customer = self._business() if account == BUSINESS else self._person()
        pool.append(customer)
        return customer

    def _person(self) -> _User:
        rng = self._rng
        english = rng.random() < ENGLISH_SHARE
        first = rng.choice(ENGLISH_FIRST if english else GERMAN_FIRST)
        last = rng.choice(ENGLISH_LAST if english else GERMAN_LAST)
        city = rng.choice(CITIES)
        handle, nickname = self._person_handle(first, last)
        name, greeting = self._display_name(first, last, city, nickname)
        followers = min(int(rng.lognormvariate(math.log(160), 1.7)), 2_500_000)
        return self._user(handle, name, greeting, "en" if english else "de", followers, city)

    def _person_handle(self, first: str, last: str) -> tuple[str, str]:
        rng = self._rng
        first_ascii, last_ascii = first.translate(ASCII), last.translate(ASCII)
        year = f"{rng.randrange(60, 100) if rng.random() < 0.6 else rng.randrange(0, 10):02d}"
        nickname = rng.choice(NICKNAMES)
        candidates = (
            first_ascii + last_ascii,
            f"{first_ascii.lower()}_{last_ascii.lower()}",
            first_ascii + last_ascii[0] + year,
            first_ascii.lower() + year,
            nickname + year,
            f"{last_ascii.lower()}_{first_ascii[0].lower()}",
        )
        choice = rng.randrange(len(candidates))
        return self._unique_handle(candidates[choice]), nickname if choice == 4 else ""

    def _display_name(self, first: str, last: str, city: str, nickname: str) -> tuple[str, str]:
        roll = self._rng.random()
        if nickname and roll < 0.6:
            return f"{nickname} {self._rng.choice(NICKNAME_EMOJI)}".strip(), ""
        if roll < 0.6:
            return f"{first} {last}", first
        if roll < 0.8:
            return first, first
        if roll < 0.9:
            return f"{first} {last[0]}.", first
        return f"{first} | {city}", first

    def _business(self) -> _User:
        rng = self._rng
        kind, stem = rng.choice(BUSINESS_KINDS)
        last = rng.choice(GERMAN_LAST)
        handle = self._unique_handle(f"{stem}_{last.translate(ASCII).lower()}")
        followers = int(rng.lognormvariate(math.log(350), 1.1))
        return self._user(handle, f"{kind} {last}", "", "de", followers, rng.choice(CITIES))

    def _user(self, handle: str, name: str, greeting: str, lang: str, followers: int, city: str) -> _User:
        rng = self._rng
        return _User(
            id=self._user_id(),
            username=handle,
            name=name,
            first_name=greeting,
            lang=lang,
            followers=followers,
            following=int(rng.lognormvariate(math.log(250), 1.0)),
            tweet_count=int(rng.lognormvariate(math.log(1800), 1.4)),
            listed=followers // rng.randrange(150, 400),
            customer_number=self._customer_number(),
            home_city=city,
        )

    def _unique_handle(self, base: str) -> str:
        handle, suffix = base[:15], 1
        while handle.lower() in self._handles:
            suffix += 1
            handle = base[: 15 - len(str(suffix))] + str(suffix)
        self._handles[handle.lower()] = None
        return handle

    def _user_id(self) -> str:
        """Accounts from before 2013 have short sequential ids, newer ones snowflakes."""
        year = self._rng.randrange(2008, 2026)
        if year < 2013:
            return str(self._rng.randrange(10_000_000, 1_300_000_000))
        joined = _local_ms(date(year, 1, 1), 12) + self._rng.randrange(364 * DAY)
        return self._ids.at(joined)

    def _customer_number(self) -> str:
        number = str(self._rng.randrange(1_000_000_000, 9_999_999_999))
        while number in self._customer_numbers:
            number = str(self._rng.randrange(1_000_000_000, 9_999_999_999))
        self._customer_numbers[number] = None
        return number


class _Snowflakes:
    """Twitter-style ids: ((ms since the Twitter epoch) << 22) | worker | sequence, so ids sort by time."""

    def __init__(self, rng: random.Random) -> None:
        self._worker = rng.randrange(1024)
        self._sequence = 0

    def at(self, ms: int) -> str:
        self._sequence = (self._sequence + 1) % 4096
        return str(((ms - TWITTER_EPOCH_MS) << 22) | (self._worker << 12) | self._sequence)


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
class _OutagePlan:
    theme: str
    region: str
    service: str
    cause: str
    device: str
    fraction: float
    weekday: int
    local_start: tuple[int, int]
    hours: float
    threads: int


OUTAGE_PLANS: Final = (
    _OutagePlan("Ausfall DSL", "Hannover-Linden", "DSL und Festnetz",
                "eine defekte Netzkarte in einem Verteilerknoten", "den Router", 0.21, 1, (7, 20), 9.5, 150),
    _OutagePlan("Ausfall Mobilfunk", "Schleswig-Holstein", "Mobilfunk (Sprache und Daten)",
                "ein Softwarefehler im Kernnetz", "dein Handy", 0.53, 4, (17, 40), 15.0, 230),
    _OutagePlan("Ausfall Glasfaser", "Hamburg-Altona", "Glasfaser-Internet",
                "ein bei Tiefbauarbeiten beschädigtes Kabel", "den Router", 0.86, 0, (10, 10), 28.0, 170),
)  # fmt: skip
PRICE_LETTER_AT: Final = 0.66
PRICE_LETTER_DAYS: Final = 10
PRICE_LETTER_THREADS_PER_DAY: Final = 12.0
MAINTENANCE_PLANS: Final = ((0.10, 1, "Bremen-Nord"), (0.36, 2, "Lüneburg"), (0.62, 3, "Kiel"),
                            (0.93, 1, "Oldenburg"))  # fmt: skip


@dataclass(frozen=True)
class _Arrival:
    ms: int
    account: str
    theme: str
    outage: _Outage | None = None


@dataclass(eq=False)
class _World:
    """Everything fixed before the simulation runs: accounts, agents, customers, planned events."""

    brands: dict[str, _User]
    agents: list[_Agent]
    population: _Population
    ids: _Snowflakes
    outages: list[_Outage]
    arrivals: list[_Arrival]

    @classmethod
    def create(cls, rng: random.Random, calendar: _Calendar) -> _World:
        ids = _Snowflakes(rng)
        brands = {
            MAIN: _User("1187345920418394112", MAIN, "Nordfunk hilft", "", "de", 48_210, 1_204, 96_530, 312),
            BUSINESS: _User("1421190345518080001", BUSINESS, "Nordfunk Business", "", "de", 6_480, 388,
                            9_214, 57),
        }  # fmt: skip
        outages = [_outage(plan, calendar) for plan in OUTAGE_PLANS]
        arrivals = _regular_arrivals(rng, calendar) + _price_arrivals(rng, calendar)
        for outage in outages:
            arrivals += _outage_arrivals(rng, outage, calendar)
        return cls(brands, _agents(calendar, outages), _Population(rng, ids), ids, outages, arrivals)


def _outage(plan: _OutagePlan, calendar: _Calendar) -> _Outage:
    day = calendar.at_fraction(plan.fraction, plan.weekday)
    start = _local_ms(day, *plan.local_start)
    end = start + int(plan.hours * HOUR)
    return _Outage(plan.theme, plan.region, plan.service, plan.cause, plan.device, start, end, plan.threads)


def _regular_arrivals(rng: random.Random, calendar: _Calendar) -> list[_Arrival]:
    """Threads opened by ordinary problems: daily and weekly rhythm, monthly growth, daily noise."""
    arrivals = []
    hourly_total = sum(HOURLY_WEIGHT)
    for day_index, day in enumerate(calendar.days()):
        growth = MONTHLY_GROWTH ** (day_index / DAYS_PER_MONTH)
        per_day = THREADS_PER_DAY_AT_START * growth * WEEKDAY_WEIGHT[day.weekday()]
        per_day *= rng.lognormvariate(0, 0.15)
        for hour in range(24):
            hour_start = _local_ms(day, hour)
            for _ in range(_poisson(rng, per_day * HOURLY_WEIGHT[hour] / hourly_total)):
                account = BUSINESS if rng.random() < BUSINESS_SHARE else MAIN
                theme = _weighted(rng, THEME_WEIGHTS[account])
                arrivals.append(_Arrival(hour_start + rng.randrange(HOUR), account, theme))
    return arrivals


def _price_arrivals(rng: random.Random, calendar: _Calendar) -> list[_Arrival]:
    """The price-increase letter: ten days of extra contract questions, a self-made overload week."""
    first = calendar.at_fraction(PRICE_LETTER_AT, 0)
    hourly_total = sum(HOURLY_WEIGHT)
    arrivals = []
    for offset in range(PRICE_LETTER_DAYS):
        day = first + timedelta(days=offset)
        fading = PRICE_LETTER_THREADS_PER_DAY * (1.0 - offset / (PRICE_LETTER_DAYS + 2))
        for hour in range(24):
            for _ in range(_poisson(rng, fading * HOURLY_WEIGHT[hour] / hourly_total)):
                arrivals.append(_Arrival(_local_ms(day, hour) + rng.randrange(HOUR), MAIN, "Preis"))
    return [arrival for arrival in arrivals if arrival.ms < calendar.end_ms]


def _outage_arrivals(rng: random.Random, outage: _Outage, calendar: _Calendar) -> list[_Arrival]:
    """Complaints pile up in the first hours of an outage, fewer at night."""
    duration = outage.end_ms - outage.start_ms
    peak = max(HOURLY_WEIGHT)
    arrivals: list[_Arrival] = []
    while len(arrivals) < outage.threads:
        offset = int(rng.expovariate(1.0 / (duration * 0.3)))
        ms = outage.start_ms + offset
        if offset >= duration or rng.random() > HOURLY_WEIGHT[_local(ms).hour] / peak:
            continue
        account = BUSINESS if rng.random() < 0.06 else MAIN
        arrivals.append(_Arrival(ms, account, outage.theme, outage))
    return [arrival for arrival in arrivals if arrival.ms < calendar.end_ms]


# --- The simulation --------------------------------------------------------------------------


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


class _Slots(dict[str, str]):
    """Template values looked up on first use, so unused ones cost neither time nor randomness."""

    def __init__(self, lookup: Callable[[str], str], greeting: str) -> None:
        super().__init__(hi=greeting)
        self._lookup = lookup

    def __missing__(self, key: str) -> str:
        return self._lookup(key)


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


class _Texts:
    """Tweet texts from the banks above, filled with details that stay constant within a thread."""

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


# --- twarc2 output ---------------------------------------------------------------------------

EXPANSIONS: Final = (
    "author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id,entities.mentions.username"
)
TWEET_FIELDS: Final = (
    "author_id,conversation_id,created_at,edit_history_tweet_ids,entities,in_reply_to_user_id,lang,"
    "public_metrics,referenced_tweets,text"
)
USER_FIELDS: Final = "id,name,public_metrics,username"
PAGE_SIZE: Final = 100
COLLECTION_TIME: Final = (6, 30)


def _tweet_lines(tweets: list[_Tweet], world: _World, calendar: _Calendar, rng: random.Random) -> list[str]:
    """The tweets as a daily twarc2 collection: for each brand account its mentions and its own
    timeline since the previous run, newest first, one API response page per line (no line ends)."""
    documents: dict[str, dict[str, Any]] = {}
    ordered = sorted(tweets, key=lambda tweet: (tweet.ms, int(tweet.id)))
    runs = _collection_runs(calendar)
    by_run: list[list[_Tweet]] = [[] for _ in runs]
    for tweet in ordered:
        by_run[bisect.bisect_right(runs, tweet.ms)].append(tweet)
    lines: list[str] = []
    previous = calendar.start_ms
    for run_ms, batch in zip(runs, by_run, strict=True):
        for account in ACCOUNTS:
            brand = world.brands[account]
            for endpoint in ("mentions", "tweets"):
                selected = [t for t in batch if t.stream == account and _endpoint(t) == endpoint]
                for page in _pages(selected[::-1], brand, endpoint, previous, run_ms, documents, rng):
                    lines.append(json.dumps(page, ensure_ascii=False))
        previous = run_ms
    return lines


def _collection_runs(calendar: _Calendar) -> list[int]:
    days = list(calendar.days())
    runs = [_local_ms(day, *COLLECTION_TIME) for day in days[1:]]
    return [*runs, calendar.end_ms + 10 * MINUTE]


def _endpoint(tweet: _Tweet) -> str:
    return "tweets" if tweet.author.username in ACCOUNTS else "mentions"


def _pages(
    newest_first: list[_Tweet],
    brand: _User,
    endpoint: str,
    since_ms: int,
    run_ms: int,
    documents: dict[str, dict[str, Any]],
    rng: random.Random,
) -> Iterator[dict[str, Any]]:
    chunks = [newest_first[i : i + PAGE_SIZE] for i in range(0, len(newest_first), PAGE_SIZE)]
    token = ""
    for number, chunk in enumerate(chunks):
        next_token = _pagination_token(rng) if number < len(chunks) - 1 else ""
        meta: dict[str, Any] = {"result_count": len(chunk), "newest_id": chunk[0].id, "oldest_id": chunk[-1].id}
        if next_token:
            meta["next_token"] = next_token
        referenced = _unique_tweets(t.parent for t in chunk)
        yield {
            "data": [_document(t, documents) for t in chunk],
            "includes": {
                "users": [_user_document(u) for u in _unique_users(chunk, referenced)],
                "tweets": [_document(t, documents) for t in referenced],
            },
            "meta": meta,
            "__twarc": {
                "url": _request_url(brand, endpoint, since_ms, run_ms, token),
                "version": "2.14.0",
                "retrieved_at": _iso_utc(run_ms + number * 1500 + rng.randrange(900)),
            },
        }
        token = next_token


def _pagination_token(rng: random.Random) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(45))


def _request_url(brand: _User, endpoint: str, since_ms: int, run_ms: int, token: str) -> str:
    query = {
        "expansions": EXPANSIONS,
        "tweet.fields": TWEET_FIELDS,
        "user.fields": USER_FIELDS,
        "max_results": PAGE_SIZE,
        "start_time": _iso_utc(since_ms),
        "end_time": _iso_utc(run_ms),
    }
    if token:
        query["pagination_token"] = token
    return f"https://api.twitter.com/2/users/{brand.id}/{endpoint}?{urlencode(query)}"


def _unique_tweets(candidates: Iterator[_Tweet | None]) -> list[_Tweet]:
    seen: dict[str, _Tweet] = {}
    for tweet in candidates:
        if tweet is not None and tweet.id not in seen:
            seen[tweet.id] = tweet
    return list(seen.values())


def _unique_users(data: list[_Tweet], referenced: list[_Tweet]) -> list[_User]:
    seen: dict[str, _User] = {}
    for tweet in (*data, *referenced):
        for user in (tweet.author, *(tweet.mentions), *([tweet.parent.author] if tweet.parent else [])):
            seen.setdefault(user.id, user)
    return list(seen.values())


def _document(tweet: _Tweet, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The tweet as API v2 returns it with the fields twarc2 requests."""
    if tweet.id in cache:
        return cache[tweet.id]
    doc: dict[str, Any] = {
        "edit_history_tweet_ids": [tweet.id],
        "id": tweet.id,
        "text": tweet.text,
        "author_id": tweet.author.id,
        "conversation_id": tweet.conversation_id,
        "created_at": _iso_utc(tweet.ms),
        "lang": tweet.lang,
    }
    if tweet.parent is not None:
        doc["in_reply_to_user_id"] = tweet.parent.author.id
        doc["referenced_tweets"] = [{"type": "replied_to", "id": tweet.parent.id}]
    if tweet.mentions:
        doc["entities"] = {"mentions": _mention_entities(tweet)}
    doc["public_metrics"] = {
        "retweet_count": tweet.retweets,
        "reply_count": tweet.replies,
        "like_count": tweet.likes,
        "quote_count": tweet.quotes,
        "bookmark_count": tweet.bookmarks,
        "impression_count": tweet.impressions,
    }
    cache[tweet.id] = doc
    return doc


def _mention_entities(tweet: _Tweet) -> list[dict[str, Any]]:
    entities, position = [], 0
    for user in tweet.mentions:
        start = tweet.text.find(f"@{user.username}", position)
        end = start + len(user.username) + 1
        entities.append({"start": start, "end": end, "username": user.username, "id": user.id})
        position = end
    return entities


def _user_document(user: _User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "public_metrics": {
            "followers_count": user.followers,
            "following_count": user.following,
            "tweet_count": user.tweet_count,
            "listed_count": user.listed,
        },
    }


# --- CRM export ------------------------------------------------------------------------------


@dataclass
class _Case:
    opened_ms: int
    closed_ms: int | None
    channel: str
    outcome: str
    category: str
    agent: str
    team: str
    minutes: float
    customer_number: str = ""
    handle: str = ""
    tweet_id: str = ""
    csat: int | None = None
    nps: int | None = None


@dataclass(frozen=True)
class _Channel:
    """How a non-Twitter channel behaves: volume relative to Twitter cases, hours, effort, mood."""

    name: str
    per_twitter_case: float
    open_hours: tuple[int, int] | None
    minutes_median: float
    outcomes: dict[str, float]
    csat_mu: dict[str, float]
    closes_in_contact: float
    teams: tuple[str, ...]
    staff: int


OTHER_CHANNELS: Final = (
    _Channel("Telefon", PHONE_CASES_PER_TWITTER_CASE, (8, 20), 10.5,
             {"gelöst": 74, "nicht gelöst": 13, "eskaliert": 11, "Duplikat": 2},
             {"gelöst": 4.0, "nicht gelöst": 2.3, "eskaliert": 2.8}, 0.7, ("Hotline Nord", "Hotline Süd"), 28),
    _Channel("E-Mail", EMAIL_CASES_PER_TWITTER_CASE, None, 12.0,
             {"gelöst": 70, "nicht gelöst": 15, "eskaliert": 11, "Duplikat": 4},
             {"gelöst": 3.8, "nicht gelöst": 2.2, "eskaliert": 2.7}, 0.0, ("E-Mail-Service",), 6),
    _Channel("Chat", CHAT_CASES_PER_TWITTER_CASE, (8, 20), 9.0,
             {"gelöst": 72, "nicht gelöst": 16, "eskaliert": 9, "Duplikat": 3},
             {"gelöst": 4.1, "nicht gelöst": 2.4, "eskaliert": 2.9}, 0.75, ("Chat-Service",), 5),
)  # fmt: skip
TWITTER_CSAT_MU: Final = {"gelöst": 4.5, "nicht gelöst": 2.5, "eskaliert": 3.1}
CATEGORY_WEIGHTS: Final = {"Störung": 28, "Rechnung": 22, "Vertrag": 20, "Technik": 12, "Umzug": 8,
                           "Mobilfunk": 10}  # fmt: skip


@dataclass(frozen=True)
class _CrmDraw:
    """The pilot's CRM cases, and what the history before it is drawn from: each classic channel's
    regular volume per unit of slot weight (outage hours aside) and its staff."""

    cases: list[_Case]
    rate: dict[str, float]
    staff: dict[str, list[tuple[str, str]]]


def _crm_cases(threads: list[_Thread], world: _World, calendar: _Calendar, rng: random.Random) -> _CrmDraw:
    """Twitter cases logged by the answering agent, plus hotline, e-mail and chat cases, plus the
    phone calls of Twitter customers whose problem came back."""
    as_of = calendar.end_ms
    twitter = [case for thread in threads for case in _twitter_cases(thread, as_of, rng)]
    staff = {channel.name: _staff(rng, channel) for channel in OTHER_CHANNELS}
    cases = list(twitter)
    rate: dict[str, float] = {}
    for channel in OTHER_CHANNELS:
        total = int(len(twitter) * channel.per_twitter_case)
        slots = _contact_slots(channel, calendar, world.outages)
        rate[channel.name] = total / sum(weight for _, weight, _ in slots)
        cases += _channel_cases(rng, channel, slots, rate[channel.name], calendar, staff[channel.name])
    cases += _recontacts(rng, twitter, OTHER_CHANNELS[0], staff["Telefon"], as_of)
    return _CrmDraw(cases, rate, staff)


def _twitter_cases(thread: _Thread, as_of: int, rng: random.Random) -> list[_Case]:
    """The agent logs a case when colleagues will need it, mostly when the case moved to DM."""
    first, agent = thread.first_response, thread.first_agent
    if first is None or agent is None:
        return []
    share = CASE_SHARE["joined" if thread.joined else "dm" if thread.used_dm else "public"]
    if rng.random() >= share:
        return []
    opened = first.ms + rng.randrange(MINUTE, 20 * MINUTE)
    if opened >= as_of:
        return []
    outcome = _twitter_outcome(thread, rng)
    closed = _twitter_closing(thread, outcome, opened, rng)
    case = _Case(
        opened_ms=opened,
        closed_ms=closed if closed < as_of else None,
        channel="Twitter",
        outcome=outcome if closed < as_of else "offen",
        category=thread.category,
        agent=agent.crm_name,
        team="Social Care",
        minutes=round(rng.lognormvariate(math.log(9.0 if thread.used_dm else 6.0), 0.35), 1),
        customer_number=thread.customer.customer_number if thread.used_dm or rng.random() < 0.35 else "",
    )
    _link_to_tweets(case, thread, rng)
    wait_hours = (first.ms - thread.started_ms) / HOUR
    _survey(case, TWITTER_CSAT_MU, rng, penalty=0.15 * math.log1p(wait_hours))
    cases = [case]
    if rng.random() < 0.025:
        cases.append(_duplicate_of(case, rng))
    return cases


def _twitter_outcome(thread: _Thread, rng: random.Random) -> str:
    if thread.thanked:
        return "gelöst"
    if thread.outage is not None:
        return rng.choices(("gelöst", "nicht gelöst", "eskaliert"), weights=(90, 5, 5))[0]
    if thread.last_brand_kind == "escalate":
        return rng.choices(("eskaliert", "gelöst"), weights=(80, 20))[0]
    return rng.choices(("gelöst", "nicht gelöst", "eskaliert"), weights=(74, 15, 11))[0]


def _twitter_closing(thread: _Thread, outcome: str, opened: int, rng: random.Random) -> int:
    if thread.outage is not None and outcome == "gelöst":
        return max(opened, thread.outage.end_ms) + _minutes(rng, 90, 0.8)
    if thread.thanked:
        return max(opened, thread.tweets[-1].ms) + _minutes(rng, 30, 0.8)
    median_hours = {"gelöst": 6.0, "nicht gelöst": 24.0, "eskaliert": 72.0}[outcome]
    return opened + _minutes(rng, median_hours * 60, 1.0)


def _link_to_tweets(case: _Case, thread: _Thread, rng: random.Random) -> None:
    """Most agents paste a tweet id; some note only the handle, typed however they like."""
    username = thread.customer.username
    handle = "@" + rng.choices((username, username.lower(), username.upper()), weights=(60, 32, 8))[0]
    by_handle_only = not thread.joined and case.opened_ms - thread.started_ms < 24 * HOUR and rng.random() < 0.3
    if by_handle_only:
        case.handle = handle
        return
    case.tweet_id = rng.choice(thread.tweets).id if rng.random() < 0.5 else thread.tweets[0].id
    if rng.random() < 0.6:
        case.handle = handle


def _survey(case: _Case, mu: dict[str, float], rng: random.Random, penalty: float = 0.0) -> None:
    """Roughly a third of closed cases answer the CSAT survey, two thirds of those also the NPS
    question; satisfaction follows the outcome and suffers from waiting."""
    if case.closed_ms is None or case.outcome not in mu or rng.random() >= SURVEY_SHARE:
        return
    case.csat = min(max(round(rng.gauss(mu[case.outcome] - penalty, 0.9)), 1), 5)
    if rng.random() < NPS_SHARE_OF_SURVEYED:
        case.nps = min(max(round(2.2 * case.csat - 1.5 + rng.gauss(0, 1.2)), 0), 10)


def _duplicate_of(case: _Case, rng: random.Random) -> _Case:
    opened = case.opened_ms + rng.randrange(5 * MINUTE, 60 * MINUTE)
    return _Case(
        opened_ms=opened,
        closed_ms=opened + rng.randrange(MINUTE, 30 * MINUTE),
        channel=case.channel,
        outcome="Duplikat",
        category=case.category,
        agent=case.agent,
        team=case.team,
        minutes=round(rng.uniform(0.5, 3.0), 1),
        customer_number=case.customer_number,
        handle=case.handle,
        tweet_id=case.tweet_id,
    )


def _staff(rng: random.Random, channel: _Channel) -> list[tuple[str, str]]:
    names: dict[str, str] = {}
    while len(names) < channel.staff:
        first, last = rng.choice(GERMAN_FIRST), rng.choice(GERMAN_LAST)
        names.setdefault(f"{first[0]}. {last}", channel.teams[len(names) % len(channel.teams)])
    return list(names.items())


def _channel_cases(
    rng: random.Random,
    channel: _Channel,
    slots: list[tuple[int, float, _Outage | None]],
    scale: float,
    calendar: _Calendar,
    staff: list[tuple[str, str]],
) -> list[_Case]:
    """Cases of a classic channel: nearly flat volume (+3 %/month) inside its opening hours,
    with many extra outage contacts while an outage lasts (``slots``, each weight x ``scale`` cases)."""
    cases = []
    for hour_start, weight, outage in slots:
        for _ in range(_poisson(rng, weight * scale)):
            category = _weighted(rng, CATEGORY_WEIGHTS)
            if outage is not None and rng.random() < 0.75:
                category = THEME_CATEGORY[outage.theme]
            opened = hour_start + rng.randrange(HOUR)
            cases.append(_classic_case(rng, channel, opened, category, staff, calendar.end_ms))
    return cases


def _contact_slots(
    channel: _Channel, calendar: _Calendar, outages: list[_Outage], growth_from: date | None = None
) -> list[tuple[int, float, _Outage | None]]:
    """Each opening hour of the channel with its relative volume and the outage it falls into.

    Growth counts from ``growth_from`` (default: the calendar's first day), so the weeks before the
    pilot continue the pilot's growth curve backwards instead of starting one of their own.
    """
    origin = growth_from or calendar.first_day
    slots: list[tuple[int, float, _Outage | None]] = []
    for day in calendar.days():
        if channel.open_hours is not None and day.weekday() == 6:
            continue
        growth = 1.03 ** ((day - origin).days / DAYS_PER_MONTH)
        for hour in range(24):
            if channel.open_hours is not None and not channel.open_hours[0] <= hour < channel.open_hours[1]:
                continue
            hour_start = _local_ms(day, hour)
            weight = growth * HOURLY_WEIGHT[hour] * (0.6 if day.weekday() == 5 else 1.0)
            outage = next((o for o in outages if o.start_ms <= hour_start < o.end_ms), None)
            slots.append((hour_start, weight * (4.0 if outage else 1.0), outage))
    return slots


def _classic_case(
    rng: random.Random, channel: _Channel, opened: int, category: str, staff: list[tuple[str, str]], as_of: int
) -> _Case:
    agent, team = rng.choice(staff)
    outcome = _weighted(rng, channel.outcomes)
    minutes = round(rng.lognormvariate(math.log(channel.minutes_median), 0.25), 1)
    if outcome == "Duplikat":
        closed = opened + rng.randrange(MINUTE, 2 * HOUR)
        minutes = round(rng.uniform(0.5, 3.0), 1)
    elif outcome != "eskaliert" and rng.random() < channel.closes_in_contact:
        closed = opened + int(minutes * MINUTE)
    else:
        closed = opened + _minutes(rng, 26 * 60 if outcome != "eskaliert" else 72 * 60, 0.9)
    case = _Case(
        opened_ms=opened,
        closed_ms=closed if closed < as_of else None,
        channel=channel.name,
        outcome=outcome if closed < as_of else "offen",
        category=category,
        agent=agent,
        team=team,
        minutes=minutes,
        customer_number=str(rng.randrange(1_000_000_000, 9_999_999_999)),
    )
    _survey(case, channel.csat_mu, rng)
    return case


def _recontacts(
    rng: random.Random, twitter: list[_Case], phone: _Channel, staff: list[tuple[str, str]], as_of: int
) -> list[_Case]:
    """About 8 % of resolved Twitter cases come back by phone within a week: the problem was not
    really solved. Their satisfaction is lower."""
    calls = []
    for case in twitter:
        if case.outcome != "gelöst" or case.closed_ms is None or rng.random() >= RECONTACT_SHARE:
            continue
        latest = case.opened_ms + 7 * DAY - 2 * HOUR
        call = _next_hotline_time(case.closed_ms + rng.randrange(2 * HOUR, 5 * DAY), phone)
        if call >= latest or call >= as_of:
            continue
        case.customer_number = case.customer_number or str(rng.randrange(1_000_000_000, 9_999_999_999))
        recontact = _classic_case(rng, phone, call, case.category, staff, as_of)
        recontact.customer_number = case.customer_number
        if recontact.csat is not None:
            recontact.csat = max(recontact.csat - 1, 1)
        calls.append(recontact)
    return calls


def _next_hotline_time(ms: int, phone: _Channel) -> int:
    """The same moment if the hotline is open then, else the same minute of its next opening hour."""
    assert phone.open_hours is not None
    opening, closing = phone.open_hours
    local = _local(ms)
    if local.weekday() != 6 and opening <= local.hour < closing:
        return ms
    day = local.date() if local.hour < opening else local.date() + timedelta(days=1)
    while day.weekday() == 6:
        day += timedelta(days=1)
    return _local_ms(day, opening) + ms % HOUR


def _numbered_cases(cases: list[_Case], rng: random.Random) -> list[tuple[int, _Case]]:
    """The cases in export order with their case numbers, which grow with gaps (other queues use some)."""
    channel_order = {"Twitter": 0, "Telefon": 1, "E-Mail": 2, "Chat": 3}
    cases.sort(key=lambda case: (case.opened_ms, channel_order[case.channel], case.agent))
    number = 2_604_000 + rng.randrange(1000)
    numbered = []
    for case in cases:
        number += rng.randint(1, 3)
        numbered.append((number, case))
    return numbered


def _history_rng(seed: int) -> random.Random:
    """The pre-launch history's own generator: drawing from the main one would change every pilot record."""
    return random.Random(seed * 1_000_003 + 17)


def _history_rows(crm: _CrmDraw, calendar: _Calendar, rng: random.Random, first_number: int) -> list[list[str]]:
    """The export's rows for the ``HISTORY_WEEKS`` weeks before the pilot's first day.

    Hotline, e-mail and chat cases with the pilot's daily and weekly rhythm, its +3 %/month growth
    continued backwards, the same staff, and no outages (the three outages are the pilot's). E-mail
    and chat run at the pilot's regular rate; the hotline at that rate / (1 - HOTLINE_VOLUME_DROP),
    since the launch took that share of its calls. The outage hours and the calls of Twitter
    customers whose problem came back are on top of the pilot's regular rate, as they were.
    Case numbers grow with gaps like the pilot's and end below ``first_number``.
    """
    before = _Calendar(calendar.first_day - timedelta(weeks=HISTORY_WEEKS), calendar.first_day)
    cases: list[_Case] = []
    for channel in OTHER_CHANNELS:
        factor = 1 / (1 - HOTLINE_VOLUME_DROP) if channel.name == "Telefon" else 1.0
        slots = _contact_slots(channel, before, [], growth_from=calendar.first_day)
        cases += _channel_cases(rng, channel, slots, crm.rate[channel.name] * factor, calendar,
                                crm.staff[channel.name])
    channel_order = {"Telefon": 1, "E-Mail": 2, "Chat": 3}
    cases.sort(key=lambda case: (case.opened_ms, channel_order[case.channel], case.agent))
    gaps = [rng.randint(1, 3) for _ in cases]
    number = first_number - sum(gaps) - rng.randrange(1, 1000)
    rows = []
    for gap, case in zip(gaps, cases, strict=True):
        number += gap
        rows.append(_crm_row(f"NF-{number}", case))
    return rows


def _write_crm(path: Path, rows: list[list[str]]) -> None:
    """Semicolon-separated, decimal commas, local German timestamps: what the CRM exports."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(CRM_HEADERS)
        writer.writerows(rows)


def _crm_row(case_id: str, case: _Case) -> list[str]:
    return [
        case_id,
        case.channel,
        _german_timestamp(case.opened_ms),
        _german_timestamp(case.closed_ms) if case.closed_ms is not None else "",
        case.outcome,
        case.customer_number,
        case.handle,
        case.tweet_id,
        case.agent,
        case.team,
        case.category,
        f"{case.minutes:.1f}".replace(".", ","),
        "" if case.csat is None else str(case.csat),
        "" if case.nps is None else str(case.nps),
    ]


# --- Broken records --------------------------------------------------------------------------
# Real inputs always hold a few records the loader must refuse. The demo plants some, so its Data
# page shows the quarantine keeping them with file, line and reason. They are extra records (the
# story's cases and tweets are all there, unchanged) and are drawn after everything else.

CUT_OFF_PAGES: Final = 2


def _plant_cut_off_pages(lines: list[str], file_name: str, rng: random.Random) -> tuple[list[str], list[DemoDefect]]:
    """Put the start of a page in front of the page, as a pull killed mid-write leaves it.

    A killed twarc2 run leaves half a response line; the next run fetches the same window again and
    writes the page whole, so no tweet is lost and only the cut-off line is quarantined. The cut-off
    text gets a line end of its own (the restarted run opens the file for appending on a new line).
    """
    if len(lines) < 10 * CUT_OFF_PAGES:
        return lines, []
    chosen = sorted(rng.sample(range(len(lines) // 10, len(lines) - len(lines) // 10), CUT_OFF_PAGES))
    out: list[str] = []
    defects: list[DemoDefect] = []
    for index, line in enumerate(lines):
        if index in chosen:
            cut = int(len(line) * rng.uniform(0.3, 0.7))
            out.append(line[:cut])
            defects.append(DemoDefect(file_name, len(out), f"response page cut off after {cut:,} of {len(line):,} "
                                      "characters: the pull was killed while writing it (the next line has it whole)"))
        out.append(line)
    return out, defects


def _opened_on_a_short_months_last_day(case: _Case) -> bool:
    """Before 23:00, so its sibling (a few minutes later) is opened on the same day."""
    local = _local(case.opened_ms)
    return local.day < 31 and (local + timedelta(days=1)).day == 1 and local.hour < 23


def _impossible_date(row: list[str]) -> str:
    row[2] = "31" + row[2][2:]
    return f"opened {row[2]}: the month has no 31st"


def _fax(row: list[str]) -> str:
    row[1], row[10] = "Fax", "Vertrag"
    return "channel 'Fax': a cancellation came by fax, and the mapping knows no such channel"


def _school_grade(row: list[str]) -> str:
    row[12] = "6"
    return "satisfaction 6 on the 1-5 scale (a school grade typed in)"


def _cut_short(row: list[str]) -> str:
    del row[8:]
    return f"the row ends after {len(row)} of {len(CRM_HEADERS)} fields (edited by hand)"


def _minutes_in_words(row: list[str]) -> str:
    row[11] = "ca. " + row[11].split(",")[0]
    return f"handled minutes {row[11]!r}: a guess in words, not a number"


def _closed_last_year(row: list[str]) -> str:
    row[3] = row[3][:6] + str(int(row[3][6:10]) - 1) + row[3][10:]
    return f"closed {row[3]}: the year typed wrong, so the case closes before it opened"


def _tweet_id_as_number(row: list[str]) -> str:
    row[7] = f"{int(row[7]):.5E}".replace(".", ",")
    return f"tweet id {row[7]}: a spreadsheet turned the id into a number and lost its last digits"


CASE_BREAKAGES: Final[tuple[tuple[Callable[[_Case], bool], Callable[[list[str]], str]], ...]] = (
    (_opened_on_a_short_months_last_day, _impossible_date),
    (lambda case: case.channel == "Telefon", _fax),
    (lambda case: case.csat is not None and case.channel != "Twitter", _school_grade),
    (lambda case: case.channel == "E-Mail", _cut_short),
    (lambda case: case.channel == "Telefon", _minutes_in_words),
    (lambda case: case.closed_ms is not None and case.channel == "E-Mail", _closed_last_year),
    (lambda case: case.channel == "Twitter" and case.tweet_id != "", _tweet_id_as_number),
)
"""Which case each kind of damage can happen to, and the damage (it edits the row, says what it did)."""


def _plant_broken_cases(
    numbered: list[tuple[int, _Case]], file_name: str, rng: random.Random
) -> tuple[list[list[str]], list[DemoDefect]]:
    """The export's rows with one broken case per kind of damage, each right after a case like it.

    A broken case is a sibling of a real one (same channel, agent and team, logged a few minutes
    later but before the next case) with the next, unused case number, so it looks like any other
    row until it is read.
    """
    free = [index == len(numbered) - 1 or numbered[index + 1][0] - number >= 2
            for index, (number, _) in enumerate(numbered)]
    planted: dict[int, tuple[list[str], str]] = {}
    for eligible, damage in CASE_BREAKAGES:
        candidates = [index for index, (_, case) in enumerate(numbered) if free[index] and eligible(case)]
        if not candidates:
            continue
        index = rng.choice(candidates)
        free[index] = False
        number, case = numbered[index]
        next_opened = numbered[index + 1][1].opened_ms if index + 1 < len(numbered) else case.opened_ms + HOUR
        row = _crm_row(f"NF-{number + 1}", _sibling(case, next_opened, rng))
        planted[index] = (row, damage(row))
    rows: list[list[str]] = []
    defects: list[DemoDefect] = []
    for index, (number, case) in enumerate(numbered):
        rows.append(_crm_row(f"NF-{number}", case))
        if index in planted:
            row, what = planted[index]
            rows.append(row)
            defects.append(DemoDefect(file_name, len(rows) + 1, what))  # + 1: the header is line 1
    return rows, defects


def _sibling(case: _Case, next_opened_ms: int, rng: random.Random) -> _Case:
    later = rng.randrange(min(max(next_opened_ms - case.opened_ms, 0), 15 * MINUTE) + 1)
    return dataclasses.replace(
        case,
        opened_ms=case.opened_ms + later,
        closed_ms=None if case.closed_ms is None else case.closed_ms + later,
        customer_number=str(rng.randrange(1_000_000_000, 9_999_999_999)) if case.customer_number else "",
    )
