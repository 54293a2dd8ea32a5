"""The events the capture machine reacts to, all delivered through the loop's one queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hal.types import Button, Press


@dataclass(frozen=True)
class ButtonEvent:
    """A button pressed (short) or held, posted from the panel's or keyboard's thread."""

    button: Button
    press: Press = Press.SHORT


@dataclass(frozen=True)
class JobDone:
    """Device work that ran off the loop has finished: ``result``, or the ``error`` it raised."""

    name: str
    result: Any = None
    error: BaseException | None = None


@dataclass(frozen=True)
class Tick:
    """The clock moved on: idle lock, battery checks and the time on screen."""

    now: datetime
