"""The kit's provisioning port on a pty: the simulator's USB gadget serial.

The kit's responder (``firmware.port.KitPort``, or anything with its ``feed``) answers
every chunk the tool writes; the tool opens ``port`` (or ``link_path``, a symlink to it)
as it would open /dev/ttyACM0.  On the Pi the same responder is served on the real
gadget serial by ``firmware.port.serve_serial``; only this pty is the simulator's.

Like ``serve_serial``, the link also feeds the responder when the line is silent
(``feed(b"")``): time must reach the frame decoder without a byte, or a half frame (a
tool killed mid-write, a cable pulled) would hold the request behind it until the next
byte came, and the kit would answer it only then, to whoever asked next.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

from hal.contracts import Closing
from hw_sim.link import PtyLink

#: How long the first chunk waits for the link to be published before it is answered.
_READY_SECONDS = 1.0


class Responder(Protocol):
    """Bytes from the tool in (none: time passes); the framed answers to every request
    now complete out."""

    def feed(self, data: bytes) -> bytes: ...


class PtyPort(Closing):
    """``responder`` served on a fresh pty; ``port`` is the path the tool opens."""

    def __init__(
        self, responder: Responder, *, link_path: str | os.PathLike[str] | None = None
    ) -> None:
        self._responder = responder
        self._ready = threading.Event()
        self.link = PtyLink(
            self._on_bytes, on_idle=self._on_idle, link_path=link_path, name="provisioning"
        )
        self.port = self.link.port
        self._ready.set()

    def __repr__(self) -> str:
        return f"<PtyPort {self.port}>"

    def _on_bytes(self, chunk: bytes) -> None:
        self._ready.wait(timeout=_READY_SECONDS)
        answer = self._responder.feed(chunk)
        if answer:
            self.link.send(answer)

    def _on_idle(self) -> None:
        self._on_bytes(b"")

    def close(self) -> None:
        """Unplug: the tool sees the port go away; safe twice."""
        self.link.close()
