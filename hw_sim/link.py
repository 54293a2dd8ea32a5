"""Pseudo-terminal links: how a serial emulator sits on the far end of a driver's port.

An emulator owns the master side of a pty; the driver opens the slave path with pyserial
exactly as it would open ``/dev/ttyAMA0`` on the Pi.  Optionally the slave path is also
published under a stable name (a symlink), so other programs can find it.

A pty moves bytes as fast as the kernel copies them; a UART does not.  A link given a
:class:`~hw_sim.timing.LineFormat` keeps the line's time in both directions: what the
device sends reaches the driver no sooner than its bits could cross, in slices of about
:data:`SLICE_SECONDS`, and what the driver writes is handed to the device at the same
pace (the driver's write then blocks once the pty's buffer is full, as on a real line).
Without a line format (the provisioning port, a USB gadget) the link is as fast as the pty.
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
from hw_sim.timing import Line, LineFormat, Timing

#: How long the serving thread sleeps in select() before checking its stop flag.
_POLL_SECONDS = 0.05
#: How long close() waits for the serving thread to finish the chunk it is handling.
_JOIN_SECONDS = 1.0
#: Bytes cross a timed line in slices of about this long, so a driver sees a long
#: answer arrive as a stream, not all at once at its end.
SLICE_SECONDS = 0.01
#: The most a read takes off an untimed link at once.
_READ_BYTES = 4096

_log = logging.getLogger(__name__)


class PtyLink(Closing):
    """A raw pty pair whose master end is served by ``on_bytes`` on a thread.

    ``on_bytes`` is called with every chunk the driver writes and may call
    :meth:`send` to answer; ``on_idle``, if given, whenever the line stayed silent for a
    poll (about :data:`_POLL_SECONDS`), so a device can let time pass without a byte (a
    frame cut off mid-way is given up).  ``link_path`` publishes the slave path as a
    symlink.  ``line`` is the UART the pty stands for (None: untimed); ``timing`` its clock.
    """

    def __init__(
        self,
        on_bytes: Callable[[bytes], None],
        *,
        on_idle: Callable[[], None] | None = None,
        link_path: str | os.PathLike[str] | None = None,
        name: str = "pty",
        line: LineFormat | None = None,
        timing: Timing | None = None,
    ) -> None:
        self._on_bytes = on_bytes
        self._on_idle = on_idle
        self.name = name
        self.timing = timing or Timing.default()
        #: Device to driver, and driver to device: each direction is its own wire.
        self.outbound = Line(line, self.timing) if line else None
        self.inbound = Line(line, self.timing) if line else None
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

    def retune(self, line: LineFormat) -> None:
        """The line changes rate or frame (a baud switch) from the next byte on."""
        for wire in (self.outbound, self.inbound):
            if wire is not None:
                wire.retune(line)

    def send(self, data: bytes) -> None:
        """Write bytes towards the driver at the line's pace; nothing once closed."""
        with self._send_lock:
            for number, piece in enumerate(self._slices(data, self.outbound)):
                if self._stop.is_set():
                    return  # closed: the descriptor may already belong to another file
                if self.outbound is not None and not self.outbound.occupy(
                    len(piece), self._stop, back_to_back=number > 0
                ):
                    return  # closed while the bytes were on the wire
                if not self._write(piece):
                    return

    def _write(self, data: bytes | memoryview) -> bool:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except OSError:
                return False  # link closed while answering: nobody is listening
            view = view[written:]
        return True

    def _slices(self, data: bytes, wire: Line | None) -> list[memoryview]:
        view = memoryview(data)
        if wire is None or self.timing.fast or not view:
            return [view]
        size = self._slice_bytes(wire)
        return [view[start : start + size] for start in range(0, len(view), size)]

    @staticmethod
    def _slice_bytes(wire: Line) -> int:
        line = wire.format
        return max(1, int(line.baudrate * SLICE_SECONDS / line.bits_per_byte))

    @property
    def stopping(self) -> threading.Event:
        """Set once close() began: a wait on the device's behalf ends early on it."""
        return self._stop

    def _serve(self) -> None:
        full = False  # the last read took a whole slice: more bytes were already waiting
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], _POLL_SECONDS)
                if not ready:
                    full = False
                    if self._on_idle is not None:
                        self._on_idle()
                    continue
                chunk = os.read(self._master, self._read_size())
            except OSError:
                return  # the master was closed by close(), or the slave hung up
            if not chunk:
                continue
            # after a full slice the driver's write goes on back to back
            streaming, full = full, len(chunk) == self._read_size()
            if self.inbound is not None and not self.inbound.occupy(
                len(chunk), self._stop, back_to_back=streaming
            ):
                return  # closed while the bytes were still on the wire
            self._on_bytes(chunk)

    def _read_size(self) -> int:
        if self.inbound is None or self.timing.fast:
            return _READ_BYTES
        return self._slice_bytes(self.inbound)

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
    #: Datasheet seconds the part has worked (imaging, printing), counted in fast mode too.
    worked_seconds: float = 0.0

    @property
    def port(self) -> str:
        """The pty path a driver opens, as it would open the real part's port."""
        return self._link.port

    @property
    def timing(self) -> Timing:
        """The clock this device keeps (real time unless made fast)."""
        return self._link.timing

    def _plug_in(
        self,
        link_path: str | os.PathLike[str] | None,
        name: str,
        *,
        line: LineFormat | None = None,
        timing: Timing | None = None,
    ) -> None:
        self._link = PtyLink(
            self._on_bytes, link_path=link_path, name=name, line=line, timing=timing
        )

    def _work(self, seconds: float, *, since: float | None = None) -> bool:
        """The part is busy for ``seconds`` of its datasheet; False if closed meanwhile.

        ``since`` (a ``timing.monotonic()`` reading) is when the work began: the time the
        simulator spent making the result (a synthetic image) counts towards it, since on
        the real part that happens inside those seconds."""
        self.worked_seconds += seconds
        spent = 0.0 if since is None else self.timing.monotonic() - since
        return self.timing.wait(self.timing.device(seconds) - spent, self._link.stopping)

    @property
    def floor_seconds(self) -> float:
        """What this part's work must take on the real kit so far: its lines' bytes at
        their rates, and its datasheet times (counted in fast mode too)."""
        lines = (self._link.outbound, self._link.inbound)
        wire = sum(line.floor_seconds for line in lines if line is not None)
        return wire + self.worked_seconds

    def _on_bytes(self, chunk: bytes) -> None:
        """What the device makes of bytes the driver wrote."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the pty; safe to call twice."""
        self._link.close()
