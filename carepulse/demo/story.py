"""The story's knobs: the brand accounts, what tweets ask and answer, and the calibration that shapes the numbers."""

from __future__ import annotations

from typing import Final, Literal

from carepulse.demo.clock import MINUTE

ACCOUNTS: Final = ("nordfunk_hilft", "nordfunk_b2b")
MAIN, BUSINESS = ACCOUNTS


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
