"""The carepulse dashboard: a Dash app with one page per audience (Pilot, Team, Explore, Data).

Dependencies flow one way: the dashboard asks :mod:`carepulse.metrics` for DataFrames and never writes SQL.
``create_app(db, settings)`` builds the app; ``serve(db, host, port, settings)`` runs it.
"""
