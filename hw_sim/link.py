"""Pseudo-terminal links: how a serial emulator sits on the far end of a driver's port.

An emulator owns the master side of a pty; the driver opens the slave path with pyserial
exactly as it would open ``/dev/ttyAMA0`` on the Pi.  Optionally the slave path is also
published under a stable name (a symlink), so other programs can find it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pty
import select
import termios
import threading
import tty
from collections.abc import Callable
from pathlib import Path

from hal.contracts import Closing
from hw_sim.faults import FaultSwitch

#: How long the serving thread sleeps in select() before checking its stop flag.
_POLL_SECONDS = 0.05
#: How long close() waits for the serving thread to finish the chunk it is handling.
_JOIN_SECONDS = 1.0

_log = logging.getLogger(__name__)


class PtyLink(Closing):
    """A raw pty pair whose master end is served by ``on_bytes`` on a thread.

    ``on_bytes`` is called with every chunk the driver writes and may call
    :meth:`send` to answer.  ``link_path`` publishes the slave path as a symlink.
    """

    def __init__(
        self,
        on_bytes: Callable[[bytes], None],
        *,
        link_path: str | os.PathLike[str] | None = None,
        name: str = "pty",
    ) -> None:
        self._on_bytes = on_bytes
        self.name = name
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        attrs = termios.tcgetattr(self._slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        self.port = os.ttyname(self._slave)
        self.link_path = Path(link_path) if link_path else None
        if self.link_path:
            if self.link_path.is_symlink():
                self.link_path.unlink()
            self.link_path.symlink_to(self.port)
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"{name}-link", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<PtyLink {self.name} port={self.port}>"

    def send(self, data: bytes) -> None:
        """Write bytes towards the driver, as the device would; nothing once closed."""
        with self._send_lock:
            if self._stop.is_set():
                return  # closed: the descriptor may already belong to another file
            view = memoryview(data)
            while view:
                try:
                    written = os.write(self._master, view)
                except OSError:
                    return  # link closed while answering: nobody is listening
                view = view[written:]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], _POLL_SECONDS)
                if not ready:
                    continue
                chunk = os.read(self._master, 4096)
            except OSError:
                return  # the master was closed by close(), or the slave hung up
            if chunk:
                self._on_bytes(chunk)

    def close(self) -> None:
        """Stop serving and release both ends; safe to call twice."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=_JOIN_SECONDS)
        if self._thread.is_alive():
            _log.warning("%s: serving thread still busy after %s s; closing", self, _JOIN_SECONDS)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.link_path and self.link_path.is_symlink():
            self.link_path.unlink()


class PtyDevice(FaultSwitch, Closing):
    """Mixin of a serial emulator: its fault switch, its :class:`PtyLink` and :attr:`port`.

    A subclass sets up its own state first and calls :meth:`_plug_in` last, since the
    link hands it the driver's bytes (:meth:`_on_bytes`) from its own thread at once.
    """

    _link: PtyLink

    @property
    def port(self) -> str:
        """The pty path a driver opens, as it would open the real part's port."""
        return self._link.port

    def _plug_in(self, link_path: str | os.PathLike[str] | None, name: str) -> None:
        self._link = PtyLink(self._on_bytes, link_path=link_path, name=name)

    def _on_bytes(self, chunk: bytes) -> None:
        """What the device makes of bytes the driver wrote."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the pty; safe to call twice."""
        self._link.close()
