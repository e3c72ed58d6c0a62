"""Secrets only from the environment or an untracked file beside the warehouse: the one rule, for the
session key, the audit log's key and the pseudonym key.

Each has its own environment variable and file, so deleting one (which logs everyone out, or makes old
digests or pseudonyms uncomparable) does not touch the others. The file is made on first use with a
random value, mode 0600, and never overwritten; a value that is too short is refused (one ``error:`` line),
never used.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from carepulse.core.errors import ConfigError

log = logging.getLogger(__name__)
MIN_LENGTH = 32


def local_secret(folder: Path, env: str, filename: str, *, min_length: int = MIN_LENGTH) -> str:
    """``$env`` when set, else the contents of ``folder/filename`` (made on first use)."""
    from_env = os.environ.get(env, "").strip()
    if from_env:
        if len(from_env) < min_length:
            raise ConfigError(f"${env} is too short: use at least {min_length} random characters")
        return from_env
    path = Path(folder) / filename
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
    if path.stat().st_mode & 0o077:
        log.warning("%s can be read by other users of this machine: chmod 600 it", path)
    value = path.read_text(encoding="ascii").strip()
    if len(value) < min_length:
        raise ConfigError(f"{path} holds no usable secret (under {min_length} characters): delete it to make a new one")
    return value
