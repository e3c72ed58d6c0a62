"""One error family so the CLI can turn every domain problem into one clear line.

Tracebacks are for bugs. Anything a user can cause (a bad file, a missing warehouse,
a wrong setting, an unreachable API) raises a subclass of :class:`CarepulseError`;
the CLI prints ``error: <message>`` and exits with the error's ``exit_code``.
"""

from __future__ import annotations


class CarepulseError(Exception):
    """Base of all errors a user can cause and fix."""

    exit_code = 1


class ConfigError(CarepulseError):
    """A setting is missing, misspelt or out of range."""

    exit_code = 2


class DataError(CarepulseError):
    """Input data cannot be used at all (unreadable file, missing columns, empty warehouse)."""

    exit_code = 2


class SourceError(CarepulseError):
    """A remote source failed. ``transient`` errors may succeed on retry; terminal ones will not."""

    exit_code = 3

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
