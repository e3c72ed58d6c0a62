"""German labels and metric descriptions: the seed of carepulse's message catalog (a later issue builds the
catalog on it).

Plain data on purpose, no functions and no imports: a catalog tool can read it as it is, a translator can
edit it without reading code, and any layer may import it. ``tests/metrics/test_labels.py`` fails when a
metric of the registry or a breakdown has no German label here (or a metric no German description), or when a
label or description names nothing any more.

- :data:`LABELS`: metric name -> German label (the registry's ``label`` is the English one).
- :data:`DESCRIPTIONS`: metric name -> German description (the registry's ``description`` is the English one).
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
    "first_response_median_s": "Erstantwort, Median",
    "first_response_p90_s": "Erstantwort, 90. Perzentil",
    "first_response_km_median_s": "Erstantwort, Kaplan-Meier-Median",
    "sla_met_share": "SLA eingehalten",
    "first_response_bh_median_s": "Erstantwort in Geschäftszeiten, Median",
    "first_response_bh_p90_s": "Erstantwort in Geschäftszeiten, 90. Perzentil",
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
    "deflection_breakeven_share": "Break-even-Verlagerungsquote",
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
    "first_response_trend_s_per_week": "Trend der Erstantwort",
    "threads_forecast_4w": "Threads in den nächsten 4 Wochen",
}

DESCRIPTIONS: dict[str, str] = {
    # ---- tweets
    "tweets": "Alle Tweets der Auswahl, von Kunden und von der Marke.",
    "customer_tweets": "Tweets, deren Autor kein Markenkonto ist.",
    "brand_tweets": "Tweets von Markenkonten; nach Agent aufgeschlüsselt: die von diesem Agenten signierten Tweets.",
    # ---- threads
    "threads": (
        "Threads (der Teil einer Konversation, der zu einem Kunden gehört), die in der Auswahl begonnen wurden, ob "
        "beantwortet oder nicht."
    ),
    "answered_threads": "Threads mit einer Erstantwort bis zum Datenstand.",
    "unanswered_threads": "Threads ohne Antwort der Marke an den Kunden bis zum Datenstand (noch wartend).",
    "response_rate": (
        "Beantwortete Threads / Threads. Unbeantwortete Threads zählen im Nenner mit. 95-%-Wilson-Intervall."
    ),
    "first_response_median_s": (
        "Median der Zeit bis zur Erstantwort der beantworteten Threads (Mittelwert der beiden mittleren Werte). "
        "Unbeantwortete Threads bleiben außen vor: siehe first_response_km_median_s. 95-%-Intervall aus "
        "Ordnungsstatistiken."
    ),
    "first_response_p90_s": (
        "90. Perzentil (lineare Interpolation) der Zeit bis zur Erstantwort der beantworteten Threads. 95-%-Intervall "
        "aus Ordnungsstatistiken."
    ),
    "first_response_km_median_s": (
        "Zeit, bis zu der die Hälfte aller Threads beantwortet ist: Kaplan-Meier-Schätzung, bei der unbeantwortete "
        "Threads bei ihrer Wartezeit (Datenstand minus Beginn) zensiert werden. Kein Wert, wenn mehr als die Hälfte "
        "noch wartet."
    ),
    "sla_met_share": (
        "Innerhalb des SLA beantwortete Threads / entschiedene Threads: die beantworteten plus die unbeantworteten, "
        "die schon länger als das SLA warten (sie zählen als verfehlt). Threads, die kürzer als das SLA warten, sind "
        "noch nicht entschieden und bleiben außen vor. 95-%-Wilson-Intervall."
    ),
    "first_response_bh_median_s": (
        "Median der Zeit bis zur Erstantwort, nur die Zeit innerhalb der Geschäftszeiten gezählt, beantwortete "
        "Threads. 95-%-Intervall aus Ordnungsstatistiken."
    ),
    "first_response_bh_p90_s": (
        "90. Perzentil der Zeit bis zur Erstantwort in Geschäftszeiten, beantwortete Threads. 95-%-Intervall aus "
        "Ordnungsstatistiken."
    ),
    "sla_breached_threads": (
        "Threads, die das SLA verfehlt haben: später als das SLA beantwortet oder noch länger als das SLA wartend. "
        "Eine Anzahl, damit eine Teamleitung sieht, wie viele es sind, nicht nur welcher Anteil."
    ),
    "sla_breached_bh_threads": "Wie sla_breached_threads, mit Antwort- und Wartezeit in Geschäftszeiten gezählt.",
    "sla_met_bh_share": (
        "Wie sla_met_share, wobei sowohl die Antwortzeit als auch die Wartezeit in Geschäftszeiten gezählt werden."
    ),
    "dm_handoff_rate": (
        "Beantwortete Threads, in denen eine Antwort der Marke an den Kunden darum bittet, per Direktnachricht (DM) "
        "fortzufahren (deutsche und englische Formulierungen) / beantwortete Threads."
    ),
    "crm_link_coverage": (
        "Threads, die mit mindestens einem CRM-Fall verknüpft sind (beliebige Verknüpfungsmethode) / Threads. "
        "95-%-Wilson-Intervall."
    ),
    "crm_link_conversation_share": (
        "Threads, deren (frühester) CRM-Fall die Konversation oder einen ihrer Tweets nennt / Threads."
    ),
    "crm_link_handle_window_share": (
        "Threads, deren (frühester) CRM-Fall über das Handle des Kunden innerhalb des Zeitfensters für die Verknüpfung"
        " verknüpft wurde / Threads."
    ),
    "thanks_rate": (
        "Beantwortete Threads, deren letzter Kundentweet nach der Erstantwort kommt und einen Dank enthält (danke, "
        "thanks, thx, ...; nicht „thanks for nothing“, „nein danke“) / beantwortete Threads."
    ),
    "exposure_follower_hours": (
        "Summe aus Followerzahl des Kunden x gewarteten Stunden (bis zur Erstantwort oder bis zum Datenstand), über "
        "wartende Threads und über später als das SLA beantwortete Threads. Kein Wert, wo die Daten keine "
        "Followerzahlen enthalten."
    ),
    # ---- reply times
    "reply_time_median_s": (
        "Median der Zeit von einem Kundentweet bis zum frühesten Tweet der Marke, der darauf antwortet, über die "
        "Kundentweets, die eine solche Antwort erhalten haben. Kein Intervall: eine Nebenkennzahl über jeden "
        "beantworteten Tweet (1,3 Mio. bei TWCS-Umfang), bei der das Sortieren der Werte jeder Gruppe für ein "
        "Intervall 0,2 s der Hauptkennzahlen gekostet hat."
    ),
    # ---- CRM cases
    "cases": "CRM-Fälle, die in der Auswahl eröffnet wurden (Ergebnis „duplicate“ ausgenommen).",
    "resolved_cases": "CRM-Fälle mit dem Ergebnis „resolved“.",
    "resolution_rate": (
        "Gelöste Fälle / Fälle mit abschließendem Ergebnis (resolved, unresolved, escalated); offene Fälle bleiben "
        "außen vor. 95-%-Wilson-Intervall."
    ),
    "fcr_rate": (
        "Fälle, die ohne weiteren Kontakt desselben Kunden (über einen beliebigen Kanal) innerhalb des Zeitfensters "
        "für erneuten Kontakt gelöst wurden / Fälle mit abschließendem Ergebnis. 95-%-Wilson-Intervall."
    ),
    "recontact_7d_rate": (
        "Gelöste Fälle, deren Kunde sich innerhalb des Zeitfensters für erneuten Kontakt (Standard: 7 Tage) nach dem "
        "Abschluss erneut über einen beliebigen Kanal meldet (ein weiterer CRM-Fall oder ein neuer Twitter-Thread) / "
        "gelöste Fälle."
    ),
    "csat_mean": "Mittelwert der Zufriedenheitsbewertung (1-5) der Fälle mit Bewertung; 95-%-t-Intervall.",
    "csat_top2_share": "Fälle mit Bewertung 4 oder 5 / Fälle mit Bewertung; 95-%-Wilson-Intervall.",
    "nps": (
        "Anteil der Promotoren (9-10) minus Anteil der Detraktoren (0-6), x 100, über die Fälle mit Bewertung; "
        "95-%-t-Intervall des Mittelwerts der Werte +100/0/-100."
    ),
    # ---- cost model and pilot economics
    "cost_per_case": (
        "(Bearbeitungsminuten x Stundenkosten des Kanals + Fixkosten des Kanals über die Monate, für die er Daten hat)"
        " / kalkulierte Fälle. Twitter-Fälle: beantwortete Threads (und Threads mit einem Twitter-CRM-Fall), "
        "kalkuliert mit ihren CRM-Minuten, sonst mit Tweets der Marke x Minuten pro Tweet der Marke plus Minuten pro "
        "Übergabe an DM. Ein Ausschnitt trägt Fixkosten nach seinem Anteil an den Bearbeitungsminuten des Kanals. "
        "95-%-Intervall aus der Streuung der Bearbeitungsminuten zwischen den Fällen (Normalapproximation)."
    ),
    "cost_per_resolved_case": (
        "Kosten des Kanals / (kalkulierte Fälle x Lösungsquote des Kanals unter den CRM-Fällen mit abschließendem "
        "Ergebnis)."
    ),
    "costed_cases": "Der Nenner der Kosten pro Fall: CRM-Fälle des Kanals; für Twitter die Twitter-Fälle.",
    "twitter_cases": (
        "Beantwortete Threads oder Threads mit einem Twitter-CRM-Fall, plus Twitter-CRM-Fälle, die mit keinem Thread "
        "verknüpft sind: die eine Zählung, die jede Kosten- und Nutzenkennzahl für Twitter verwendet."
    ),
    "hotline_variable_cost_per_case": (
        "Bearbeitungsminuten der Hotline x ihre Stundenkosten / ihre Fälle, über die Pilotmonate: was ein verlagerter "
        "Fall einspart. Fixkosten der Hotline sind nicht enthalten."
    ),
    "pilot_net_benefit_eur": (
        "Summe über die Pilotmonate von Twitter-Fällen x Verlagerungsquote x variablen Hotline-Kosten pro Fall (+ "
        "tatsächlich eingesparte Fixkosten der Hotline, Standard: keine) minus Kosten von Twitter. Einführungskosten "
        "nicht enthalten."
    ),
    "deflection_breakeven_share": (
        "Der Verlagerungsquote, bei dem der Nettonutzen des Piloten null ist; liegt er über 100 %, erreicht der Pilot"
        " den Break-even nicht."
    ),
    "pilot_payback_month": (
        "Erster Monat, dessen kumulierter Nettonutzen seit dem Pilotstart, Einführungskosten eingerechnet, mindestens "
        "null ist; kein Wert, solange das nicht der Fall ist."
    ),
    "pilot_payback_projected_month": (
        "Der Amortisationsmonat, falls erreicht, sonst der Median über 1.000 simulierte Verläufe der wöchentlichen "
        "Volumenprognose bei der heutigen Marge pro Fall; Intervall: 2,5-%- und 97,5-%-Quantil der Verläufe (offen, "
        "wenn später als der Prognosehorizont)."
    ),
    "hotline_itsa_volume_change": (
        "Unterbrochene Zeitreihe: wöchentliche Hotline-Fälle nach dem Start gegen den fortgeschriebenen Trend vor dem "
        "Start (segmentierte Quasi-Poisson-Regression), relative Veränderung mit 95-%-Konfidenzintervall; "
        "Beobachtungsdaten, kein Experiment."
    ),
    "staffing_fte_x1": (
        "Vollzeitkräfte (FTE), die nötig sind, um in jeder Stunde der Woche den Zielanteil der Personalplanung "
        "innerhalb des SLA zu beantworten (Erlang C pro Stunde, Obergrenze der Auslastung, Ausfallquote), beim "
        "mittleren Eingangsvolumen der letzten vollständigen Wochen."
    ),
    "staffing_fte_x1_5": "Wie staffing_fte_x1, beim 1,5-Fachen des Eingangsvolumens.",
    "staffing_fte_x2": "Wie staffing_fte_x1, beim Doppelten des Eingangsvolumens.",
    # ---- text proxies
    "sentiment_first_mean": (
        "Mittlere Stimmung (-1..1; VADER für Englisch, das carepulse-Lexikon für Deutsch) des ersten Kundentweets "
        "jedes Threads."
    ),
    "sentiment_last_mean": "Mittlere Stimmung des letzten Kundentweets jedes Threads.",
    "sentiment_shift_mean": (
        "Mittelwert von (letzte - erste) Stimmung der Kundentweets über Threads mit mindestens zwei Kundentweets."
    ),
    "negative_waiting": "Unbeantwortete Threads, deren letzter Kundentweet negativ ist (Stimmung <= -0,05).",
    "thanks_csat_auc": (
        "Wie gut „der Kunde hat sich am Ende bedankt“ CSAT 4-5 von 1-3 trennt, über Threads mit verknüpftem CSAT: AUC "
        "(0,5 = nicht besser als Zufall)."
    ),
    "sentiment_csat_spearman": (
        "Spearman-Rangkorrelation der Stimmung des letzten Kundentweets mit dem verknüpften CSAT."
    ),
    # ---- statistics
    "csat_diff_twitter_hotline": (
        "Mittlerer CSAT der Twitter-Fälle minus mittlerer CSAT der Hotline-Fälle; 95-%-Konfidenzintervall nach Welch "
        "und p-Wert, dazu ein p-Wert nach Brunner-Munzel für die ordinalen Bewertungen."
    ),
    "resolution_diff_twitter_hotline": (
        "Lösungsquote der Twitter-Fälle minus die der Hotline-Fälle; 95-%-Intervall nach Newcombe."
    ),
    "first_response_trend_s_per_week": (
        "OLS-Steigung des wöchentlichen Medians der Zeit bis zur Erstantwort (Sekunden pro Woche), "
        "95-%-Konfidenzintervall."
    ),
    "threads_forecast_4w": (
        "ETS-Prognose (additiver Fehler und Trend) der wöchentlich neuen Threads, summiert über die nächsten 4 Wochen;"
        " 95-%-Prognoseintervall durch Simulation."
    ),
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
