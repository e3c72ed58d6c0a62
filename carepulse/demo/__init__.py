"""The embedded demo: a seeded, simulated six-month pilot of a German telco's Twitter support."""
