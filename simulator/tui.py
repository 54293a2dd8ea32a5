"""The kit in a terminal: the OLED and status LED drawn as text, the keyboard as buttons.

A developer at a laptop drives the simulated kit exactly as an officer drives the real
one, with four keys.  Holding a key in a terminal only produces auto-repeat, which looks
like many short presses, so "hold BACK" has a key of its own, and so has holding the
power co-processor's button (the one button that is not the panel's).
"""

from __future__ import annotations

import contextlib
import enum
import os
import select
import sys
import termios
import threading
import tty
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

from hal.types import Button, Indicator, Press


class PowerButton(enum.Enum):
    """The power co-processor's button: the Pico reads it, not the panel."""

    POWER = "power"


#: What a key does: a panel button or the power button, pressed or held.
Key = tuple[Button | PowerButton, Press]

#: Keyboard bytes -> what they do on the kit.
KEYS: dict[bytes, Key] = {
    b"\x1b[A": (Button.UP, Press.SHORT),  # arrow up
    b"\x1b[B": (Button.DOWN, Press.SHORT),  # arrow down
    b"k": (Button.UP, Press.SHORT),
    b"j": (Button.DOWN, Press.SHORT),
    b"\r": (Button.OK, Press.SHORT),  # Enter
    b"\n": (Button.OK, Press.SHORT),
    b" ": (Button.OK, Press.SHORT),
    b"\x7f": (Button.BACK, Press.SHORT),  # Backspace
    b"\x08": (Button.BACK, Press.SHORT),
    b"b": (Button.BACK, Press.SHORT),
    b"x": (Button.BACK, Press.HOLD),  # "hold BACK": cancel
    b"X": (Button.BACK, Press.HOLD),
    b"p": (PowerButton.POWER, Press.SHORT),  # the battery on the display
    b"P": (PowerButton.POWER, Press.HOLD),  # held 3 s: a safe shutdown
}
QUIT_KEYS = (b"q", b"\x03")  # q, Ctrl-C

HELP = (
    "↑/k UP  ↓/j DOWN  Enter OK  Backspace/b BACK  x hold-BACK (cancel)"
    "  p power  P hold-power (shut down)  q quit"
)

_LED_COLOURS = {
    Indicator.OFF: "\x1b[90m●\x1b[0m",
    Indicator.READY: "\x1b[32m●\x1b[0m",
    Indicator.BUSY: "\x1b[34m●\x1b[0m",
    Indicator.ATTENTION: "\x1b[33m●\x1b[0m",
    Indicator.FAULT: "\x1b[31m●\x1b[0m",
    Indicator.SAVED: "\x1b[32;5m●\x1b[0m",
}


def decode_keys(data: bytes) -> Iterator[Key | None]:
    """Turn raw terminal input into button presses; ``None`` means quit.

    Escape sequences are matched longest first; unknown bytes are skipped.
    """
    index = 0
    while index < len(data):
        for length in (3, 1):
            chunk = data[index : index + length]
            if chunk in QUIT_KEYS:
                yield None
                index += length
                break
            if chunk in KEYS:
                yield KEYS[chunk]
                index += length
                break
        else:
            index += 1


def render(
    lines: Sequence[str], *, columns: int, indicator: Indicator, facts: Sequence[str]
) -> str:
    """One frame: the display in a box, the LED, and the facts about the simulated world."""
    width = columns + 2
    shown = [*lines, *[""] * 4][:4]
    frame = ["┌" + "─" * width + "┐"]
    frame += [f"│ {line[:columns].ljust(columns)} │" for line in shown]
    frame += ["└" + "─" * width + "┘", f" LED {_LED_COLOURS[indicator]}  {indicator.value}"]
    frame += [f" {fact}" for fact in facts]
    frame += ["", HELP]
    return "\x1b[H\x1b[2J" + "\r\n".join(frame) + "\r\n"


class TerminalUI:
    """Draws the kit and feeds key presses to ``press`` until quit or ``stop``."""

    #: Seconds between redraws when nothing was pressed.
    REFRESH_SECONDS = 0.2

    def __init__(
        self,
        *,
        frame: Callable[[], str],
        press: Callable[[Button | PowerButton, Press], None],
        stop: threading.Event,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
    ) -> None:
        self._frame = frame
        self._press = press
        self._stop = stop
        self._stdin = stdin
        self._stdout = stdout

    def run(self) -> None:
        with _raw_terminal(self._stdin):
            last = ""
            while not self._stop.is_set():
                current = self._frame()
                if current != last:
                    self._stdout.write(current)
                    self._stdout.flush()
                    last = current
                ready, _, _ = select.select([self._stdin], [], [], self.REFRESH_SECONDS)
                if not ready:
                    continue
                data = os.read(self._stdin.fileno(), 64)
                if not data:
                    self._stop.set()  # stdin closed
                for key in decode_keys(data):
                    if key is None:
                        self._stop.set()
                        break
                    self._press(*key)
            self._stdout.write("\x1b[0m\r\n")


@contextlib.contextmanager
def _raw_terminal(stream: TextIO) -> Iterator[None]:
    """Put a real terminal in cbreak mode for the duration; leave pipes alone."""
    if not stream.isatty():
        yield
        return
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
