"""German labels: the seed of carepulse's message catalog (a later issue builds the catalog on it).

Plain data on purpose, no functions and no imports: a catalog tool can read it as it is, a translator can
edit it without reading code, and any layer may import it. ``tests/metrics/test_labels.py`` fails when a
metric of the registry or a breakdown has no German label here, or when a label names nothing any more.

- :data:`LABELS`: metric name -> German label (the registry's ``label`` is the English one).
- :data:`BREAKDOWNS`: breakdown name -> German label (a breakdown's English label is its name).
- :data:`PHRASES`: the few English words exports put around those labels -> German.
"""

from __future__ import annotations

LABELS: dict[str, str] = {
    # ---- tweets
    "tweets": "Tweets",
    "customer_tweets": "Kundentweets",
    "brand_tweets": "Tweets der Marke",
    # ---- threads
    "threads": "Threads",
    "answered_threads": "Beantwortete Threads",
    "unanswered_threads": "Unbeantwortete Threads",
    "response_rate": "Antwortquote",
    "first_response_median_s": "Erste Antwort, Median",
    "first_response_p90_s": "Erste Antwort, 90. Perzentil",
    "first_response_km_median_s": "Erste Antwort, Kaplan-Meier-Median",
    "sla_met_share": "SLA eingehalten",
    "first_response_bh_median_s": "Erste Antwort in Geschäftszeiten, Median",
    "first_response_bh_p90_s": "Erste Antwort in Geschäftszeiten, 90. Perzentil",
    "sla_breached_threads": "SLA verletzt",
    "sla_breached_bh_threads": "SLA verletzt in Geschäftszeiten",
    "sla_met_bh_share": "SLA eingehalten in Geschäftszeiten",
    "dm_handoff_rate": "An DM übergeben",
    "crm_link_coverage": "Threads mit CRM-Fall",
    "crm_link_conversation_share": "Threads verknüpft über Konversations-ID",
    "crm_link_handle_window_share": "Threads verknüpft über Handle und Zeit",
    "thanks_rate": "Dank des Kunden am Ende",
    "exposure_follower_hours": "Sichtbarkeit langsamer öffentlicher Threads",
    # ---- reply times
    "reply_time_median_s": "Antwortzeit, Median",
    # ---- CRM cases
    "cases": "CRM-Fälle",
    "resolved_cases": "Gelöste Fälle",
    "resolution_rate": "Lösungsquote",
    "fcr_rate": "Lösung beim Erstkontakt",
    "recontact_7d_rate": "Erneuter Kontakt innerhalb von 7 Tagen",
    "csat_mean": "CSAT, Mittelwert",
    "csat_top2_share": "CSAT 4-5",
    "nps": "Net Promoter Score",
    # ---- cost model and pilot economics
    "cost_per_case": "Kosten pro Fall",
    "cost_per_resolved_case": "Kosten pro gelöstem Fall",
    "costed_cases": "Kalkulierte Fälle",
    "twitter_cases": "Twitter-Fälle",
    "hotline_variable_cost_per_case": "Variable Hotline-Kosten pro Fall",
    "pilot_net_benefit_eur": "Nettonutzen des Twitter-Piloten",
    "deflection_breakeven_share": "Break-even-Verlagerungsanteil",
    "pilot_payback_month": "Amortisationsmonat",
    "pilot_payback_projected_month": "Prognostizierter Amortisationsmonat",
    "hotline_itsa_volume_change": "Hotline-Volumen seit dem Twitter-Start",
    "staffing_fte_x1": "Benötigte Agenten, heutiges Volumen",
    "staffing_fte_x1_5": "Benötigte Agenten, Volumen x1,5",
    "staffing_fte_x2": "Benötigte Agenten, Volumen x2",
    # ---- text proxies
    "sentiment_first_mean": "Stimmung des ersten Kundentweets",
    "sentiment_last_mean": "Stimmung des letzten Kundentweets",
    "sentiment_shift_mean": "Stimmungswandel",
    "negative_waiting": "Negativ und wartend",
    "thanks_csat_auc": "Dank als CSAT-Ersatz (AUC)",
    "sentiment_csat_spearman": "Stimmung als CSAT-Ersatz (Spearman)",
    # ---- statistics
    "csat_diff_twitter_hotline": "CSAT: Twitter minus Hotline",
    "resolution_diff_twitter_hotline": "Lösungsquote: Twitter minus Hotline",
    "first_response_trend_s_per_week": "Trend der ersten Antwort",
    "threads_forecast_4w": "Threads in den nächsten 4 Wochen",
}

BREAKDOWNS: dict[str, str] = {
    "account": "Konto",
    "agent": "Agent",
    "team": "Team",
    "category": "Kategorie",
    "channel": "Kanal",
    "day": "Tag",
    "week": "Woche",
    "month": "Monat",
    "hour": "Stunde",
    "weekday": "Wochentag",
}

PHRASES: dict[str, str] = {
    "Selection": "Auswahl",
    "whole selection": "gesamte Auswahl",
    "(total)": "(gesamt)",
    "95% from": "95 % von",
    "95% to": "95 % bis",
    "n": "n",
    "p": "p",
}
