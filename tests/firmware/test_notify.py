"""The notify protocol as systemd reads it: datagrams, their order, the abstract namespace."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from firmware.notify import Notifier


def received(sock: socket.socket) -> list[str]:
    sock.settimeout(0.2)
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            return messages


def test_ready_once_pings_after_ready_and_stopping_last(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        notifier = Notifier(str(path), watchdog_seconds=0.0)
        notifier.alive()  # before READY: systemd's watchdog is not counting yet
        notifier.ready("locked")
        notifier.ready("locked again")
        notifier.alive()
        notifier.stopping()
        notifier.alive()  # after STOPPING: nothing more
        notifier.close()
        messages = received(sock)
    assert messages == [
        "READY=1\nSTATUS=locked",
        "WATCHDOG=1",
        "STOPPING=1\nSTATUS=stopping: finishing the record under way",
    ]


def test_an_abstract_socket_address_is_reached() -> None:
    name = f"jemput-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        notifier = Notifier("@" + name)
        notifier.ready("up")
        assert received(sock) == ["READY=1\nSTATUS=up"]


def test_the_environment_decides_and_a_foreign_watchdog_is_not_fed() -> None:
    ours = Notifier.from_environment({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"})
    assert ours.address == "/run/x" and ours.watchdog_seconds == 30.0
    theirs = Notifier.from_environment(
        {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    )
    assert theirs.watchdog_seconds is None
    assert Notifier.from_environment({}).address is None


def test_a_dead_socket_is_logged_once_and_never_raises(tmp_path: Path, caplog) -> None:
    notifier = Notifier(str(tmp_path / "nobody-listens"), watchdog_seconds=0.0)
    notifier.ready("up")
    notifier.alive()
    notifier.stopping()
    assert len([r for r in caplog.records if "notify socket" in r.getMessage()]) == 1
