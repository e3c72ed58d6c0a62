"""Serving the dashboard safely: which Host names it answers, the security headers, the WSGI server.

* **Host allow-list.** A browser on another site can point a name it controls at 127.0.0.1 (DNS
  rebinding) and then read the dashboard's answers as its own. So a request whose ``Host`` is not one of
  the dashboard's names gets 400 and nothing else: the loopback names when bound to loopback, else the
  bound address, this machine's name and addresses, plus the names given with ``--allow-host`` or
  ``$CAREPULSE_ALLOWED_HOSTS`` (comma-separated; a reverse proxy's public name goes there).
* **Headers.** A Content-Security-Policy the app really passes (scripts only from the dashboard itself,
  Dash's inline start-up script by its hash, ``'unsafe-eval'`` because Dash runs clientside callbacks
  through ``new Function``; styles inline because Plotly and the grid set them; nothing loaded from
  elsewhere, no framing), ``X-Frame-Options: DENY``, ``nosniff``, ``Referrer-Policy: same-origin`` (the
  same-origin check of state-changing requests needs the ``Origin`` header, which ``no-referrer`` would
  blank), and no caching of data answers.
* **Server.** waitress, a production WSGI server, instead of Flask's development server; the banner
  prints the address it actually bound (``--port 0`` picks a free one).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from typing import Any

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
THREADS = 8


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _machine_names() -> set[str]:
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            names.add(str(info[4][0]))
    except OSError:
        pass
    return {n.lower() for n in names if n}


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names a request's ``Host`` may carry (without the port), lower case."""
    names = set(LOOPBACK_NAMES)
    if not is_loopback(host):
        names |= _machine_names()
        if host not in ("0.0.0.0", "::"):
            names.add(host.lower())
    from_env = os.environ.get("CAREPULSE_ALLOWED_HOSTS", "")
    names |= {n.strip().lower() for n in (*extra, *from_env.split(",")) if n.strip()}
    return frozenset(names)


def host_name(header: str) -> str:
    """``example.org:8050`` -> ``example.org``; ``[::1]:8050`` -> ``::1``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def csp(script_hashes: Iterable[str]) -> str:
    """The policy; ``script_hashes`` as Dash's ``csp_hashes`` gives them (quoted: ``'sha256-...'``)."""
    hashes = " ".join(script_hashes)
    return ("default-src 'self'; "
            f"script-src 'self' 'unsafe-eval' {hashes}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
            "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'")


def protect(app: Any, allowed: frozenset[str]) -> None:
    """Refuse foreign Host headers and add the security headers to every answer of ``app`` (a Dash app)."""
    import flask

    server: flask.Flask = app.server
    policy: list[str] = []  # computed at the first answer: every page's clientside callbacks are known then

    @server.before_request
    def check_host() -> Any:
        if host_name(flask.request.host) not in allowed:
            return flask.Response("error: this dashboard does not answer to that host name\n", status=400,
                                  mimetype="text/plain")
        return None

    @server.after_request
    def headers(response: flask.Response) -> flask.Response:
        if not policy:
            policy.append(csp(app.csp_hashes()))
        response.headers["Content-Security-Policy"] = policy[0]
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if flask.request.path.startswith(("/_dash-update-component", "/export/", "/report.")):
            response.headers["Cache-Control"] = "no-store"
        return response


def run(app: Any, host: str, port: int, on_bound: Any) -> None:
    """Serve ``app`` with waitress until Ctrl-C; ``on_bound(url)`` once listening (the real port)."""
    from waitress import create_server

    server: Any = create_server(app.server, host=host, port=port, threads=THREADS, ident="carepulse")
    bound_host, bound_port = server.effective_host, server.effective_port
    shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    on_bound(f"http://{shown}:{bound_port}/")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
