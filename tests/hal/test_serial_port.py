"""hal.serial_port: every pyserial fault comes out as a hal.exc leaf naming port and advice."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import pytest

from hal.exc import DeviceAbsent, DeviceTimeout
from hal.serial_port import SerialPort

ADVICE = "check the widget's cable"


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    os.close(slave)
    try:
        yield master, path
    finally:
        with contextlib.suppress(OSError):  # the test may have closed it
            os.close(master)


def _open(path: str, **settings: object) -> SerialPort:
    return SerialPort(path, device="widget", label="widget", advice=ADVICE, poll=0.02, **settings)


def test_a_missing_port_is_absent_with_advice() -> None:
    with pytest.raises(DeviceAbsent, match=r"widget on /dev/no-such-tty: cannot open.*cable") as e:
        _open("/dev/no-such-tty")
    assert e.value.device == "widget"


def test_read_waits_one_poll_then_returns_what_came(pty: tuple[int, str]) -> None:
    master, path = pty
    link = _open(path)
    try:
        started = time.monotonic()
        assert link.read() == b""
        assert time.monotonic() - started < 0.5
        os.write(master, b"abc")
        time.sleep(0.05)
        assert link.read() == b"abc"
        os.write(master, b"stale")
        time.sleep(0.05)
        link.reset_input()
        assert link.read() == b""
        link.write(b"hello")
        assert os.read(master, 16) == b"hello"
    finally:
        link.close()


def test_a_closed_port_is_absent_and_close_is_safe_twice(pty: tuple[int, str]) -> None:
    _, path = pty
    link = _open(path)
    assert not link.closed
    link.close()
    link.close()
    assert link.closed
    for call in (link.read, link.reset_input, lambda: link.write(b"x")):
        with pytest.raises(DeviceAbsent, match=f"widget on {path} was closed"):
            call()


def test_a_write_nobody_takes_times_out(pty: tuple[int, str]) -> None:
    _, path = pty
    link = _open(path)
    try:
        with pytest.raises(DeviceTimeout, match=rf"widget on {path}: took no data .*cable"):
            for _ in range(1000):  # fills the pty's buffer: the master never reads
                link.write(bytes(4096), timeout=0.05)
    finally:
        link.close()


def test_a_port_that_goes_away_is_absent(pty: tuple[int, str]) -> None:
    master, path = pty
    link = _open(path)
    try:
        os.close(master)  # the USB adapter was pulled
        with pytest.raises(DeviceAbsent, match=rf"widget on {path}: reading failed.*cable"):
            for _ in range(50):
                link.read()
    finally:
        link.close()
