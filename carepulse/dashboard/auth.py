"""Login and roles for the dashboard, enforced on the server for every request.

One entry point: ``install(server, db_path, settings)``. A warehouse without dashboard users (table
``dashboard_users``, filled by ``carepulse users add``) keeps the dashboard as it always was: one person on
their own machine, no login. Once users exist, every request passes the ``guard`` hook (before any other):

* **Who.** A Flask session in the signed cookie (``carepulse_session``: HttpOnly, SameSite=Lax, twelve
  hours after the last request; ``Secure`` with ``CAREPULSE_SECURE_COOKIE=1`` behind TLS). It holds the
  user's name, a random session id and a CSRF token, never the role: the role is looked up in the
  warehouse on each request (cached per published snapshot, so a request costs a ``stat``), so ``users
  set-role`` and ``users remove`` take effect at once. Logging out revokes the session id in this
  process, so a copied cookie dies with it.
* **What.** :func:`required_role` maps a request to the least role it needs, from one table (``RULES``).
  Pages and downloads go by path; a Dash callback (``POST /_dash-update-component``) goes by the component
  ids it writes, because every callback of a page writes only ids that start with the page's name
  (``ids.py``). The ids are read from ``output``, the key Dash itself dispatches on, not only from
  ``outputs``, so a forged body cannot run one callback while naming another's outputs. Dash draws a page
  through its routing callback (``_pages_content``), which is judged by the path it is asked to draw:
  refusing ``GET /data`` alone would leave the Data page one callback away. Anything the table does not
  name needs ``admin``: a page or callback added later is closed until someone gives it a rule.
* **CSRF.** The login and logout forms carry a token from the session in a hidden field. Dash's callbacks
  post JSON from the dashboard's own page and cannot carry a form field, so a state-changing request other
  than those forms must name this host in its ``Origin`` header (or, without one, its ``Referer``): a
  browser sets ``Origin`` itself and a page on another site cannot forge it, and SameSite=Lax already keeps
  the cookie off cross-site POSTs; the header check is the second wall. Only the host (with port) is
  compared, not the scheme: behind a TLS-terminating proxy the app sees ``http`` while the browser says
  ``https``.
* **Guessing.** At most ``MAX_FAILURES`` failed logins per name and per client address within
  ``FAILURE_WINDOW_S``; then 429 until the window passes. A failure says only "wrong name or password", and
  an unknown name is checked against a dummy hash so that it takes as long as a wrong password. The counts
  live in this process (one waitress process serves the dashboard); behind a proxy every client has the
  proxy's address, so the per-address limit then counts everyone together.

The session key comes from ``CAREPULSE_SECRET_KEY``, else from ``.carepulse-secret`` beside the warehouse
(created on first use, mode 0600; ``data/`` is not tracked). docs/security.md has the operator's view.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections import deque
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

import flask

from carepulse.core.config import Settings
from carepulse.core.errors import CarepulseError
from carepulse.core.local_secrets import local_secret
from carepulse.dashboard import filters, state
from carepulse.dashboard.addresses import safe_next
from carepulse.warehouse import Warehouse, audit
from carepulse.warehouse import dashboard_users as users

log = logging.getLogger(__name__)

ROLES = users.ROLES
LOGGED_IN = ROLES[0]  # every user has at least the first role: "logged in" and "management" are the same
DEFAULT_ROLE = ROLES[-1]  # what anything the table does not name needs: closed until it gets a rule
UPDATE_PATH = "/_dash-update-component"
PAGE_ROLES = {"pilot": "management", "team": "teamlead", "explore": "analyst", "data": "admin"}

RULES: dict[str, str | None] = {
    # Paths. A key ending in "*" is a prefix. None: open to everyone (the login form itself).
    "/login": None,
    "/lang/*": None,  # the language switch: the login form has it too
    "/logout": None,  # its own view sends someone without a session to the login
    **{path: PAGE_ROLES[key] for key, _, path in filters.PAGES},  # a page missing here fails at import
    "/pilot": "management",  # the Pilot page's alias
    "/export/*": "analyst",  # Explore's thread download
    "/report.*": "management",  # the management report (Pilot page)
    "/_dash-layout": LOGGED_IN,  # the shell: navigation and empty containers, no data
    "/_dash-dependencies": LOGGED_IN,
    "/_dash-component-suites/*": LOGGED_IN,
    "/assets/*": LOGGED_IN,
    "/_favicon.ico": LOGGED_IN,
    "/_reload-hash": LOGGED_IN,
    # Dash callbacks, by the component ids they write ("#"). A page's ids start with its name (ids.py).
    "#pilot-*": "management",
    "#team-*": "teamlead",  # the Team page and its single-thread panel
    "#explore-*": "analyst",  # Explore, its thread panel and its table download
    "#data-*": "admin",  # runs, quarantine, coverage
    "#url": LOGGED_IN,
    "#nav-*": LOGGED_IN,
    "#shell-*": LOGGED_IN,
    "#views-*": LOGGED_IN,
    "#filter-*": LOGGED_IN,
    "#warehouse-alert": LOGGED_IN,
    "#_pages_location": LOGGED_IN,  # writing the address; the page it leads to is judged when drawn
    "#_pages_store": LOGGED_IN,
    "#_pages_dummy": LOGGED_IN,
    # "#_pages_content" (Dash's routing callback draws a page) is judged by the path it draws: see below.
}
PAGES_CONTENT = "_pages_content"
PAGES_LOCATION = "_pages_location"
API_PREFIXES = ("/_dash", "/_favicon", "/_reload", "/assets/", "/export/", "/report.")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0
SESSION_HOURS = 12
SECRET_ENV = "CAREPULSE_SECRET_KEY"
SECRET_FILE = ".carepulse-secret"
SECURE_COOKIE_ENV = "CAREPULSE_SECURE_COOKIE"
# Single sign-on through an authenticating reverse proxy (oauth2-proxy for OIDC, an SSO module): the header
# in which the proxy names the user. Trusted only on a loopback-bound server (``app.serve`` refuses
# otherwise), since anyone who can reach the server directly could send it.
SSO_HEADER_ENV = "CAREPULSE_SSO_USER_HEADER"


def sso_header() -> str | None:
    """The proxy's user header when single sign-on is configured, else None."""
    name = os.environ.get(SSO_HEADER_ENV, "").strip()
    return name or None
MIN_SECRET = 32


# ---- the rules (pure) -------------------------------------------------------------------------------

def _lookup(key: str) -> str | None:
    """The rule for ``key`` (``/path`` or ``#id``): exact first, then the longest prefix, else ``DEFAULT_ROLE``."""
    if key in RULES:
        return RULES[key]
    best: str | None = None
    for pattern in RULES:
        if pattern.endswith("*") and key.startswith(pattern[:-1]) and (best is None or len(pattern) > len(best)):
            best = pattern
    return RULES[best] if best is not None else DEFAULT_ROLE


def _page_path(path: str) -> str:
    """``/Team/`` -> ``/team``: the form Dash's routing matches (it strips slashes), lower-cased, so no spelling
    of a path reaches a page under a looser rule."""
    return "/" + path.strip("/").lower()


def _strictest(roles: list[str | None]) -> str | None:
    needed = [r if r in ROLES else DEFAULT_ROLE for r in roles if r is not None]
    return max(needed, key=ROLES.index) if needed else None


def _output_ids(body: dict[str, Any]) -> list[str]:
    """The component ids a callback request writes: from ``output`` (what Dash dispatches on) and ``outputs``."""
    found: list[str] = []
    output = body.get("output")
    if isinstance(output, str):
        parts = output[2:-2].split("...") if output.startswith("..") and output.endswith("..") else [output]
        found += [part.rsplit(".", 1)[0] for part in parts]
    stack: list[Any] = [body.get("outputs")]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict) and "id" in item:
            found.append(item["id"] if isinstance(item["id"], str) else json.dumps(item["id"], sort_keys=True))
    return found


def _id_role(component: str, body: dict[str, Any]) -> str | None:
    if component == PAGES_CONTENT:
        return _strictest([LOGGED_IN, _lookup(_page_path(_routed_path(body)))])
    if component.startswith("{"):  # a pattern-matching id: judged by its "type"
        try:
            kind = json.loads(component).get("type")
        except (ValueError, AttributeError):
            return DEFAULT_ROLE
        return _lookup("#" + kind) if isinstance(kind, str) else DEFAULT_ROLE
    return _lookup("#" + component)


def _routed_path(body: dict[str, Any]) -> str:
    """The path Dash's routing callback is asked to draw (its ``_pages_location.pathname`` input)."""
    for item in body.get("inputs") or []:
        if isinstance(item, dict) and item.get("id") == PAGES_LOCATION and item.get("property") == "pathname":
            value = item.get("value")
            return value if isinstance(value, str) else "/"
    return "/"


def required_role(path: str, body: dict[str, Any] | None) -> str | None:
    """The least role a request for ``path`` needs (None: anyone, logged in or not).

    ``body`` is the JSON of a Dash callback request (``POST /_dash-update-component``), else None. A
    callback needs the strictest role among the ids it writes; a body without ids needs ``admin``.
    """
    if path == UPDATE_PATH:
        if not isinstance(body, dict):
            return DEFAULT_ROLE
        components = _output_ids(body)
        if not components:
            return DEFAULT_ROLE
        return _strictest([_id_role(c, body) for c in components]) or LOGGED_IN
    if any(path.startswith(prefix) for prefix in API_PREFIXES):
        return _lookup(path)
    return _lookup(_page_path(path))


def is_page_request(path: str) -> bool:
    """A page the browser navigates to (answered with a redirect to the login), not an API or a download."""
    return not any(path.startswith(prefix) for prefix in API_PREFIXES)


# ---- state of one server ---------------------------------------------------------------------------

class _UserTable:
    """The users of the published snapshot, read once per snapshot through a never-blocking reader.

    If a new snapshot cannot be read (the file went bad while serving), the last table read stays in use:
    the pages then show the warehouse's error panel to the users who were allowed before, instead of
    locking everyone out; with no table ever read, a login answers 503.
    """

    def __init__(self, db_path: Path) -> None:
        self._reader = Warehouse(db_path).reader()
        self._lock = threading.Lock()
        self._snapshot: tuple[int, ...] | None = None
        self._users: dict[str, tuple[str, str]] | None = None

    def get(self, name: str) -> tuple[str, str] | None:
        """(role, hash) of ``name``; raises CarepulseError when no table could ever be read."""
        with self._lock:
            snap = self._reader.snapshot_id()
            if self._users is None or snap != self._snapshot:
                try:
                    self._users = users.read_users(self._reader.connection())
                    self._snapshot = snap
                except CarepulseError as exc:
                    if self._users is None:
                        raise
                    log.warning("cannot read the dashboard users of the new snapshot, keeping the last: %s", exc)
            return self._users.get(name)


class _Failures:
    """Failed logins per key (a name, an address) within the window; thread-safe, pruned as it goes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._times.get(key, deque())
        while times and now - times[0] > FAILURE_WINDOW_S:
            times.popleft()
        return times

    def blocked_for(self, keys: list[str]) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = [FAILURE_WINDOW_S - (now - t[0]) for t in (self._recent(k, now) for k in keys)
                     if len(t) >= MAX_FAILURES]
        return max(waits, default=0.0)

    def record(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._times) > 10_000:  # many names tried: forget the ones whose window has passed
                self._times = {k: t for k, t in self._times.items() if self._recent(k, now)}
            for key in keys:
                times = self._recent(key, now)
                times.append(now)
                self._times[key] = times

    def clear(self, key: str) -> None:
        with self._lock:
            self._times.pop(key, None)


class _Revoked:
    """Session ids logged out in this process, kept until their cookie would have expired anyway."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def add(self, sid: str) -> None:
        now = time.time()
        with self._lock:
            self._until = {s: t for s, t in self._until.items() if t > now}
            self._until[sid] = now + SESSION_HOURS * 3600

    def __contains__(self, sid: object) -> bool:
        with self._lock:
            return isinstance(sid, str) and self._until.get(sid, 0.0) > time.time()


# ---- the secret ------------------------------------------------------------------------------------

def secret_key(db_path: Path) -> str:
    """``$CAREPULSE_SECRET_KEY``, else ``.carepulse-secret`` beside the warehouse (see
    :mod:`carepulse.core.local_secrets`). Sessions survive a restart and are shared by every process
    serving the same warehouse; deleting the file logs everyone out."""
    return local_secret(Path(db_path).parent, SECRET_ENV, SECRET_FILE, min_length=MIN_SECRET)


# ---- the server ------------------------------------------------------------------------------------

def users_configured(db_path: Path) -> bool:
    """Whether the warehouse has dashboard users (and the dashboard therefore a login).

    False without a warehouse file. A file that cannot be read raises its one-line CarepulseError.
    """
    if not Path(db_path).exists():
        return False
    reader = Warehouse(db_path).reader()
    try:
        return bool(users.read_users(reader.connection()))
    finally:
        reader.close()


def install(server: flask.Flask, db_path: Path, settings: Settings) -> None:
    """Put the login and the role checks in front of every route of ``server`` (nothing without users).

    A warehouse whose users cannot be read at start is treated as having users: closed, not open.
    ``settings`` is taken for symmetry with ``create_app``; no setting changes the rules yet.
    """
    del settings
    if "carepulse_auth" in server.extensions:  # installed already: a second set of routes would clash
        return
    try:
        if not users_configured(db_path):
            log.info("no dashboard users in %s: the dashboard has no login", db_path)
            return
    except CarepulseError as exc:
        log.warning("cannot read the dashboard users (%s): login required", exc)
    server.secret_key = secret_key(db_path)
    server.config.update(
        SESSION_COOKIE_NAME="carepulse_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get(SECURE_COOKIE_ENV, "") in ("1", "true", "yes"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )
    table, failures, revoked = _UserTable(Path(db_path)), _Failures(), _Revoked()
    server.extensions["carepulse_auth"] = table

    header = sso_header()

    def current() -> tuple[str, str] | None:
        """(name, role) of the request's user: the proxy's name under single sign-on, else the session's;
        None when logged out, revoked or removed (or not a dashboard user)."""
        if header:
            named = flask.request.headers.get(header, "").strip()[:200]
            found_sso = table.get(named) if named else None
            return (named, found_sso[0]) if found_sso else None
        name, sid = flask.session.get("user"), flask.session.get("sid")
        if not isinstance(name, str) or not isinstance(sid, str) or sid in revoked:
            return None
        found = table.get(name)
        return (name, found[0]) if found else None

    def guard() -> Any:
        path = flask.request.path
        if path in ("/login", "/logout"):
            return None  # their views check their own form tokens
        if flask.request.method not in SAFE_METHODS and not same_origin():
            return _text("refused: a cross-site request (its Origin or Referer is not this dashboard)", 403)
        body = flask.request.get_json(silent=True) if path == UPDATE_PATH else None
        needed = required_role(path, body if isinstance(body, dict) else None)
        if needed is None:
            return None
        try:
            user = current()
        except CarepulseError as exc:
            return _text(f"the dashboard users cannot be read: {exc}", 503)
        if user is None and header:  # the proxy decides who may log in; the role is the dashboard's
            named = flask.request.headers.get(header, "").strip()
            message = (f"forbidden: {named[:200]} is not a dashboard user (an admin adds users with carepulse "
                       "users add NAME --role ROLE)" if named else
                       f"login required: the sign-on proxy named no user (header {header})")
            return _text(message, 403 if named else 401)
        if user is None:
            if is_page_request(path) and flask.request.method in SAFE_METHODS:
                target = flask.request.full_path if flask.request.query_string else path
                return flask.redirect("/login?" + _urlencode({"next": target}))
            return _text("login required", 401)
        if not users.role_includes(user[1], needed):
            message = f"forbidden: this needs the {needed} role (you are {user[0]}, {user[1]})"
            if is_page_request(path):
                return _page("Not for your role", f"<p>{escape(message)}.</p><p><a href=\"/\">Pilot page</a></p>",
                             403)
            return _text(message, 403)
        flask.g.carepulse_user = user
        return None

    def login() -> Any:
        session = flask.session
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        target = safe_next(flask.request.values.get("next"))
        if flask.request.method == "GET":
            return _login_form(session["csrf"], target, "", "", 200)
        if not _token_ok(flask.request.form.get("csrf_token")):
            return _login_form(session["csrf"], target, "", _("The form had expired: please log in again."), 403)
        name = flask.request.form.get("name", "")[:200]
        password = flask.request.form.get("password", "")
        keys = ["name:" + name.lower(), "addr:" + (flask.request.remote_addr or "?")]
        wait = failures.blocked_for(keys)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            answer = _login_form(session["csrf"], target, name, _("Too many failed logins: try again in about "
                                                                  "{minutes} min.").format(minutes=minutes), 429)
            answer.headers["Retry-After"] = str(int(wait) + 1)
            return answer
        try:
            found = table.get(name)
        except CarepulseError as exc:
            return _text(f"the dashboard users cannot be read: {exc}", 503)
        ok = users.verify_password(found[1] if found else users.dummy_hash(), password) and found is not None
        if not ok:
            failures.record(keys)
            log.warning("failed dashboard login for %r from %s", name[:64], flask.request.remote_addr)
            # an unknown name is not kept: people type their password into the name field
            audit.record(db_path, name if found else "(unknown name)", "login.failure",
                         {"addr": flask.request.remote_addr, "known_user": found is not None})
            return _login_form(session["csrf"], target, name, _("Wrong name or password."), 401)
        failures.clear(keys[0])
        session.clear()  # a new session for the new user: nothing carried over from before the login
        session.permanent = True
        session.update(user=name, sid=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32))
        log.info("dashboard login: %s", name)
        audit.record(db_path, name, "login", {"addr": flask.request.remote_addr})
        return flask.redirect(target)

    def logout() -> Any:
        session = flask.session
        if flask.request.method == "GET":
            if "user" not in session:
                return flask.redirect("/login")
            form = (f'<form method="post" action="/logout">{_hidden("csrf_token", str(session.get("csrf", "")))}'
                    f'<button type="submit">{escape(_("Log out"))}</button></form>')
            who = escape(_("Logged in as {name}.").format(name=session["user"]))
            return _page(_("Log out"), f"<p>{who}</p>{form}", 200)
        if not _token_ok(flask.request.form.get("csrf_token")):
            return _text("refused: the logout form had expired (reload the page)", 403)
        sid = session.get("sid")
        if isinstance(sid, str):
            revoked.add(sid)
        audit.record(db_path, str(session.get("user", "(no user)")), "logout", {"addr": flask.request.remote_addr})
        session.clear()
        return flask.redirect("/login")

    server.add_url_rule("/login", "carepulse_login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "carepulse_logout", logout, methods=["GET", "POST"])
    # first of all hooks: nothing else answers a request its user may not make
    server.before_request_funcs.setdefault(None, []).insert(0, guard)
    log.info("dashboard login required (users in %s)", db_path)


def current_user() -> tuple[str, str] | None:
    """(name, role) of the request's user once :func:`install`'s check has passed; None without a login.

    For the shell (hide what a role cannot open, show who is logged in); the server checks regardless.
    """
    if not flask.has_request_context():
        return None
    user = flask.g.get("carepulse_user")
    return user if isinstance(user, tuple) else None


def may_open(role: str, path: str) -> bool:
    """Whether ``role`` may open the page at ``path`` (the navbar hides the others; the server refuses them)."""
    needed = required_role(path, None)
    return needed is None or users.role_includes(role, needed)


def csrf_token() -> str | None:
    """The session's token for a logout form drawn inside the dashboard (``<input name="csrf_token">``)."""
    token = flask.session.get("csrf") if flask.has_request_context() else None
    return token if isinstance(token, str) else None


def same_origin() -> bool:
    """Whether the request's ``Origin`` (else ``Referer``) names this host; neither header: refused."""
    from urllib.parse import urlsplit

    source = flask.request.headers.get("Origin") or flask.request.headers.get("Referer")
    if not source or source == "null":
        return False
    return urlsplit(source).netloc.lower() == flask.request.host.lower()


def _token_ok(sent: str | None) -> bool:
    expected = flask.session.get("csrf")
    return isinstance(expected, str) and isinstance(sent, str) and hmac.compare_digest(expected, sent)


def _urlencode(values: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


def _text(message: str, status: int) -> flask.Response:
    return flask.Response(message + "\n", status=status, mimetype="text/plain",
                          headers={"Cache-Control": "no-store"})


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


STYLE = ("body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}"
         "main{max-width:22rem;margin:12vh auto;background:#fff;padding:1.5rem 2rem;border-radius:6px;"
         "box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.3rem}label{display:block;margin:.8rem 0 .2rem}"
         "input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.4rem}"
         "button{margin-top:1rem;padding:.4rem 1.2rem}.problem{color:#a00}.languages{margin-top:1.5rem;"
         "font-size:.85rem;color:#555}")


def _(message: str) -> str:
    """The login pages' words in the request's language (the dashboard's catalog; imported late, since the
    catalog module imports the dashboard's state)."""
    from carepulse.dashboard.i18n import _ as translate

    return translate(message)


def _languages() -> str:
    """The language switch of the login pages: links to ``/lang/<code>`` that come back to the login."""
    from carepulse.dashboard.i18n import LANGUAGE_NAMES

    here = state.locale()
    links = [f'<a href="/lang/{code}?next=/login" lang="{code}">{escape(name)}</a>' if code != here
             else f'<strong lang="{code}">{escape(name)}</strong>' for code, name in LANGUAGE_NAMES.items()]
    return f'<p class="languages">{" · ".join(links)}</p>'


def _page(title: str, body: str, status: int) -> flask.Response:
    """A small page of its own: no script, no external resource, every value escaped by the caller."""
    text = (f'<!doctype html><html lang="{escape(state.locale())}"><head><meta charset="utf-8"><title>'
            f'{escape(title)} · carepulse</title><meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{STYLE}</style></head><body><main><h1>carepulse</h1>{body}{_languages()}</main></body></html>")
    return flask.Response(text, status=status, mimetype="text/html",
                          headers={"Cache-Control": "no-store"})


def _login_form(token: str, target: str, name: str, problem: str, status: int) -> flask.Response:
    shown = f'<p class="problem" role="alert">{escape(problem)}</p>' if problem else ""
    form = ('<form method="post" action="/login">'
            f'{_hidden("csrf_token", token)}{_hidden("next", target)}'
            f'<label for="name">{escape(_("Name"))}</label><input type="text" id="name" name="name" '
            f'value="{escape(name)}" autocomplete="username" required autofocus>'
            f'<label for="password">{escape(_("Password"))}</label><input type="password" id="password" '
            'name="password" autocomplete="current-password" required>'
            f'<button type="submit">{escape(_("Log in"))}</button></form>')
    return _page(_("Log in"), shown + form, status)
