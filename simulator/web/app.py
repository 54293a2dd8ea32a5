"""The browser kit's web server: one page, its live updates, and the page's actions.

Starlette serves the routes and uvicorn runs them, always on 127.0.0.1: the page can
press the kit's buttons and break its devices, so it is for the developer at this
machine only.  Every request passes :mod:`simulator.web.guard` (this page's address and
origin, a bounded JSON body) and every action :mod:`simulator.web.controls`; a bad one
gets a 4xx answer naming the problem, and the kit goes on.

Nothing here blocks the event loop: the kit's work (a held button sleeps for its hold)
runs in worker threads, so the page, its live view and Ctrl-C are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import socket
import threading
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any

import uvicorn
from PIL import Image, ImageOps
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from simulator.power import HOLD_SECONDS as POWER_HOLD_SECONDS
from simulator.web.controls import BadRequest, Controls
from simulator.web.guard import RequestGuard, error_response, json_body

#: The only address the browser kit listens on.
LOOPBACK = "127.0.0.1"
#: How often the live view looks for a change, in seconds.
PUSH_SECONDS = 0.15
#: How much bigger than the OLED's 128 x 64 pixels the page draws it.
DISPLAY_SCALE = 4
#: How long a stopping server lets the actions in flight finish, in whole seconds: the
#: longest is the power button's hold.  An action's worker thread runs to its end either
#: way; waiting for it answers its request instead of cancelling it with an error logged.
GRACE_SECONDS = math.ceil(POWER_HOLD_SECONDS)

Snapshot = Callable[[], dict[str, Any]]


class Pages:
    """The routes, over a snapshot function and the page's controls."""

    def __init__(
        self,
        *,
        snapshot: Snapshot,
        controls: Controls,
        display_png: Callable[[], bytes],
        camera_jpeg: Callable[[], bytes | None],
        printed_path: Callable[[str], Any],
        catalogue: dict[str, Any],
        stopping: threading.Event,
    ) -> None:
        self._snapshot = snapshot
        self._controls = controls
        self._display_png = display_png
        self._camera_jpeg = camera_jpeg
        self._printed_path = printed_path
        self._catalogue = catalogue
        self._stopping = stopping
        # One action at a time, as four buttons allow.  An asyncio lock: a click waiting
        # behind a held button waits on the event loop, which goes on serving the page.
        self._one_at_a_time = asyncio.Lock()

    def routes(self) -> list[Route]:
        return [
            Route("/", self.page, methods=["GET"]),
            Route("/state", self.state, methods=["GET"]),
            Route("/events", self.events, methods=["GET"]),
            Route("/catalogue", self.catalogue, methods=["GET"]),
            Route("/action/{name}", self.action, methods=["POST"]),
            Route("/display.png", self.display, methods=["GET"]),
            Route("/camera.jpg", self.camera, methods=["GET"]),
            Route("/printed/{name}", self.printed, methods=["GET"]),
        ]

    async def page(self, _: Request) -> Response:
        html = resources.files("simulator.web").joinpath("page.html").read_text("utf-8")
        return HTMLResponse(html)

    async def state(self, _: Request) -> Response:
        return JSONResponse(await asyncio.to_thread(self._snapshot))

    async def catalogue(self, _: Request) -> Response:
        return JSONResponse(self._catalogue)

    async def events(self, request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            last = ""
            while not self._stopping.is_set() and not await request.is_disconnected():
                current = json.dumps(await asyncio.to_thread(self._snapshot))
                if current != last:
                    last = current
                    yield f"data: {current}\n\n"
                await asyncio.sleep(PUSH_SECONDS)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def action(self, request: Request) -> Response:
        name = request.path_params["name"]
        try:
            async with self._one_at_a_time:
                answer = await asyncio.to_thread(self._controls.apply, name, json_body(request))
        except BadRequest as exc:
            return error_response(422 if name in self._controls.actions else 404, str(exc))
        return JSONResponse({"ok": answer})

    async def display(self, _: Request) -> Response:
        return Response(await asyncio.to_thread(self._display_png), media_type="image/png")

    async def camera(self, _: Request) -> Response:
        jpeg = self._camera_jpeg()
        if jpeg is None:
            return error_response(404, "the camera has taken no photo yet")
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    async def printed(self, request: Request) -> Response:
        item = self._printed_path(request.path_params["name"])
        if item is None:
            return error_response(404, "no such printed card or slip in the tray")
        return FileResponse(item, media_type="image/png")


def scaled_display(png: bytes) -> bytes:
    """The OLED's 128 x 64 framebuffer, scaled up with hard pixels and lit pixels blue-white."""
    image = Image.open(io.BytesIO(png)).convert("L")
    image = image.resize(
        (image.width * DISPLAY_SCALE, image.height * DISPLAY_SCALE), Image.Resampling.NEAREST
    )
    coloured = ImageOps.colorize(image, black=(8, 12, 24), white=(170, 220, 255))
    buffer = io.BytesIO()
    coloured.save(buffer, format="PNG")
    return buffer.getvalue()


def build_app(pages: Pages) -> Starlette:
    """The page's routes behind the guard that every request passes first."""
    return Starlette(routes=pages.routes(), middleware=[Middleware(RequestGuard)])


class Server:
    """uvicorn serving ``app`` on 127.0.0.1:``port`` (0: any free port) on its own thread."""

    def __init__(self, app: Starlette, *, port: int) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((LOOPBACK, port))
            self._socket.listen()  # connections wait in the backlog until uvicorn serves
        except OSError as exc:
            self._socket.close()
            raise OSError(
                f"cannot listen on {LOOPBACK}:{port} ({exc.strerror}); "
                "choose another port with --port"
            ) from exc
        self.address: tuple[str, int] = self._socket.getsockname()
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="web-kit", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}/"

    def _serve(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port; safe twice."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=GRACE_SECONDS + 1)
        with contextlib.suppress(OSError):
            self._socket.close()
