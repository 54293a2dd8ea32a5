"""What the browser kit's server accepts: every request is checked here, before any route.

Listening on 127.0.0.1 keeps other machines out, but not other web pages: any page open in
the developer's browser can send requests to 127.0.0.1, and a page whose name an attacker
re-points at 127.0.0.1 (DNS rebinding) can even read the answers.  The page presses the
kit's buttons and breaks its devices, so :class:`RequestGuard` refuses:

- a ``Host`` that is not ``127.0.0.1`` or ``localhost`` with the server's port (400):
  a rebound name arrives with the attacker's name in it;
- an ``Origin`` other than the page's own (403).  A request without one is taken: browsers
  send ``Origin`` on every POST and every cross-origin request (the Fetch standard), so a
  request without it comes from a program such as curl or a test, and a program on this
  machine can already reach 127.0.0.1 with any headers it likes;
- a POST whose body is not ``application/json`` (415): a page may send ``text/plain``
  across origins without asking, but ``application/json`` needs the browser's CORS
  preflight, which this server never grants;
- a body over :data:`MAX_BODY` (413), refused on its declared length before it is read, or
  while it is read, so an endless body is never held;
- a body nested deeper than :data:`MAX_DEPTH` (400), counted before the JSON parser could
  recurse through it, and a body that is not JSON (400).

A refusal is a JSON ``{"error": ...}`` with a one-line message.  What is left unread of a
refused body whose declared length is within :data:`MAX_BODY` is read to its end by
uvicorn and thrown away, so the client hears the answer rather than a reset connection;
any other refusal closes the connection, so the rest of a long body is never read.  A POST
that passes reaches its route with its parsed JSON value, read by :func:`json_body`; no
route reads a request body itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

#: Largest request body the page ever sends (a long signature), in bytes.
MAX_BODY = 256 * 1024
#: Deepest nesting of JSON arrays and objects taken; the page's deepest is 4 (a point of a
#: stroke of a signature: ``{"strokes": [[[x, y]]]}``).
MAX_DEPTH = 8
#: The names the page may be opened by.
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
#: Where the parsed body waits for its route, in the request's scope.
_BODY = "jemput.json_body"

#: A JSON string (its brackets are text, not nesting).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
#: Every byte but the four brackets, deleted to leave the nesting.
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENERS = frozenset(b"[{")


class Refused(Exception):
    """A request the server will not serve: its status and what to send instead."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error_response(status: int, message: str, *, close: bool = False) -> JSONResponse:
    """The answer to a request the kit cannot use: ``{"error": message}``."""
    return JSONResponse(
        {"error": message}, status_code=status, headers={"Connection": "close"} if close else None
    )


def json_body(request: Request) -> Any:
    """The JSON value of a POST's body, as :class:`RequestGuard` read and checked it."""
    return request.scope[_BODY]


class RequestGuard:
    """ASGI middleware in front of every route: the checks of the module's docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan; the server takes no WebSocket (ws="none")
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            _check_origin(headers, _checked_host(headers, scope))
            if scope["method"] == "POST":  # the only method with a body that a route takes
                _check_json_type(headers)
                scope[_BODY] = _parsed(await _read_body(headers, receive))
        except Refused as refused:
            declared = _declared_length(headers)
            close = declared is None or declared > MAX_BODY
            await error_response(refused.status, str(refused), close=close)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _checked_host(headers: Headers, scope: Scope) -> str:
    """The ``Host`` header, when it names this server: a loopback name and its port."""
    port = scope["server"][1] if scope.get("server") else None
    host = headers.get("host", "").lower()
    allowed = {f"{name}:{port}" for name in LOOPBACK_NAMES}
    if port == 80:  # `--port 80`: browsers leave the default port out of the Host
        allowed.update(LOOPBACK_NAMES)
    if host not in allowed:
        raise Refused(
            400, f"Host {host!r} is not this kit's address; open http://{LOOPBACK_NAMES[0]}:{port}/"
        )
    return host


def _check_origin(headers: Headers, host: str) -> None:
    origin = headers.get("origin")
    if origin is not None and origin.lower() != f"http://{host}":
        raise Refused(403, f"requests from {origin!r} are refused: only the kit's own page may act")


def _check_json_type(headers: Headers) -> None:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise Refused(415, f"send the body as application/json, not {media_type or 'nothing'!r}")


def _declared_length(headers: Headers) -> int | None:
    """The body's ``Content-Length`` (uvicorn has checked that it is a number), if given."""
    declared = headers.get("content-length")
    return None if declared is None else int(declared)


async def _read_body(headers: Headers, receive: Receive) -> bytes:
    """The body, read a message at a time and given up as soon as it passes :data:`MAX_BODY`."""
    too_big = Refused(413, f"request body over {MAX_BODY} bytes")
    declared = _declared_length(headers)
    if declared is not None and declared > MAX_BODY:
        raise too_big  # refused before a byte is read: the client is not even asked to send it
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "the client went away before the body ended")
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            raise too_big
        if not message.get("more_body", False):
            return bytes(body)


def _parsed(raw: bytes) -> Any:
    if _depth_over(raw, MAX_DEPTH):
        raise Refused(400, f"the request body is nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw)
    except ValueError as exc:  # not JSON, not UTF-8, or a number of over 4300 digits
        raise Refused(400, f"the request body is not JSON: {exc}") from None


def _depth_over(raw: bytes, limit: int) -> bool:
    """Whether ``raw``'s arrays and objects nest deeper than ``limit``.

    Brackets inside strings are text, so strings are removed first; what is left of a body
    that is not JSON at all is still only counted, and the parser then refuses it.
    """
    depth = 0
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in _OPENERS else -1
        if depth > limit:
            return True
    return False
