"""systemd's notify protocol: READY, the watchdog's pings, STOPPING (docs/hardware.md).

Why our own twenty lines and not a library: the protocol is one datagram of
``KEY=VALUE`` lines to the AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a leading ``@``
means Linux's abstract namespace).  The ``sdnotify`` package on PyPI does just that but
has had no release since 2017, swallows every socket error without a word and knows
nothing of ``$WATCHDOG_USEC``; ``systemd-python`` needs libsystemd's headers and a C
compiler on the kit.  Here a failed send is logged once, and the watchdog interval
systemd hands us decides how often the loop pings.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends notify messages to ``address``; does nothing when it is None (not under systemd).

    ``watchdog_seconds`` is the unit's ``WatchdogSec`` (from ``$WATCHDOG_USEC``); pings go
    at most every half of it, and only once READY was sent, so the order systemd sees is
    READY, WATCHDOG..., STOPPING.
    """

    def __init__(self, address: str | None, *, watchdog_seconds: float | None = None) -> None:
        self.address = address
        self.watchdog_seconds = watchdog_seconds
        self._socket: socket.socket | None = None
        self._ready = False
        self._stopping = False
        self._last_ping = 0.0
        self._warned = False

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> Notifier:
        """The notifier systemd asked for; pings only when the watchdog is ours to feed."""
        address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC", "")
        owner = env.get("WATCHDOG_PID", "")
        ours = not owner or owner == str(os.getpid())
        watchdog = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and ours else None
        return cls(address, watchdog_seconds=watchdog)

    def __repr__(self) -> str:
        return f"<Notifier {self.address or 'off'} watchdog={self.watchdog_seconds}>"

    def send(self, *lines: str) -> None:
        """One datagram of ``lines``; a failure is logged once, never raised."""
        if self.address is None:
            return
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._socket is None:
                self._socket = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                )
            self._socket.sendto("\n".join(lines).encode(), target)
        except OSError as exc:
            if not self._warned:
                log.error("systemd notify socket %s: %s", self.address, exc)
                self._warned = True

    def ready(self, status: str) -> None:
        """The kit is up (once): systemd's start job finishes, the watchdog starts counting."""
        if not self._ready and not self._stopping:
            self._ready = True
            self.send("READY=1", f"STATUS={status}")

    def alive(self) -> None:
        """The event loop is alive: a watchdog ping, at most every half interval."""
        if self.watchdog_seconds is None or not self._ready or self._stopping:
            return
        now = time.monotonic()
        if now - self._last_ping >= self.watchdog_seconds / 2:
            self._last_ping = now
            self.send("WATCHDOG=1")

    def stopping(self) -> None:
        """The kit is stopping (once): finishing a seal and closing the store."""
        if not self._stopping:
            self._stopping = True
            self.send("STOPPING=1", "STATUS=stopping: finishing the record under way")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
