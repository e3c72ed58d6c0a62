"""What a role sees of the customers: their handles as stable pseudonyms, their texts only where needed.

A team lead answers customers, so team leads (and admins) see handles and tweets as they are: the
``reveal`` permission. An analyst works on patterns, not people: handles become pseudonyms and customer
texts are hidden, in the grids, the thread view and the downloads alike. Management sees aggregates only
(the roles keep them off the pages with rows). Without a login (one user on their own machine) everything
is shown: that user owns the data.

A pseudonym is a keyed HMAC of the handle (lower case, without "@"): the same customer is the same
pseudonym in every view, export and load, so analyses still join, but without the key nobody can turn a
pseudonym back into a handle by hashing candidate handles. The key comes from ``$CAREPULSE_PSEUDONYM_KEY``
or an untracked file ``.carepulse-pseudonym-key`` next to the warehouse (created on first use, mode 0600).
Brand accounts and brand tweets are not personal data of a customer and stay as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carepulse.core.local_secrets import local_secret
from carepulse.dashboard import auth, state

if TYPE_CHECKING:
    import pandas as pd

REVEAL_ROLES = frozenset({"teamlead", "admin"})
KEY_ENV = "CAREPULSE_PSEUDONYM_KEY"
KEY_FILE = ".carepulse-pseudonym-key"
HANDLE_COLUMNS = ("customer_handle",)
TEXT_COLUMNS = ("first_text", "last_text")
HIDDEN = "(hidden for your role)"


def reveals() -> bool:
    """Whether this request's user sees customers as they are (no login configured: yes)."""
    user = auth.current_user()
    return user is None or user[1] in REVEAL_ROLES


def key(folder: Path) -> bytes:
    """The pseudonym key: ``$CAREPULSE_PSEUDONYM_KEY``, else ``.carepulse-pseudonym-key`` beside the warehouse
    (see :mod:`carepulse.core.local_secrets`)."""
    return local_secret(folder, KEY_ENV, KEY_FILE).encode("utf-8")


def pseudonym(handle: Any, secret: bytes) -> Any:
    """``cust-`` and 12 hex digits of HMAC-SHA256(key, handle in lower case without "@"); None stays None."""
    if handle is None or handle != handle:  # None or NaN
        return handle
    text = str(handle).strip().lstrip("@").lower()
    return "cust-" + hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def _secret() -> bytes:
    return key(state.current().path.resolve().parent)


def masked(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of threads or tweets as this request's user may see them (a copy; the cached frame stays)."""
    if reveals() or frame.empty:
        return frame
    secret = _secret()
    out = frame.copy()
    for column in HANDLE_COLUMNS:
        if column in out:
            out[column] = [pseudonym(v, secret) for v in out[column]]
    for column in TEXT_COLUMNS:
        if column in out:
            out[column] = [None if v is None or v != v else HIDDEN for v in out[column]]
    if "role" in out and "author_handle" in out:  # a conversation: the customers' tweets, not the brand's
        customer = out["role"] != "brand"
        brands = {str(h).lower() for h in out.loc[~customer, "author_handle"] if isinstance(h, str)}
        out.loc[customer, "author_handle"] = [pseudonym(v, secret) for v in out.loc[customer, "author_handle"]]
        if "text" in out:
            out.loc[customer, "text"] = HIDDEN
            out.loc[~customer, "text"] = [_mentions(v, brands, secret) for v in out.loc[~customer, "text"]]
    return out


_MENTION = re.compile(r"@(\w{1,15})")


def _mentions(text: Any, brands: set[str], secret: bytes) -> Any:
    """A brand tweet with every customer it mentions ("@Alice") as that customer's pseudonym."""
    if not isinstance(text, str):
        return text
    return _MENTION.sub(lambda m: m.group(0) if m.group(1).lower() in brands else "@" + pseudonym(m.group(1), secret),
                        text)


def masked_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """A thread's header as this request's user may see it."""
    if detail is None or reveals():
        return detail
    return {**detail, "customer_handle": pseudonym(detail.get("customer_handle"), _secret())}
