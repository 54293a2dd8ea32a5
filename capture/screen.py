"""What the officer reads on the kit, as a public model: the screen drawn after every event.

The display shows at most four lines of 21 characters.  :class:`Screen` says the same in a
form a driver reads without parsing them: the state, the lines as drawn, the menu the
buttons work (its choices and the highlighted one), the digit entry and the digit under its
cursor, the finger the screen names, and the device work the kit waits for (the LED says
it).  The controller makes a new one each time it draws
(:attr:`capture.controller.Controller.view`); it is immutable, so a driver on another thread
reads a whole screen, never half of one.  Drivers (:mod:`capture.driver`) read this and
nothing of a step's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from capture.events import Job
from capture.machine import CaptureState
from capture.prompts import Language, heading
from capture.widgets import EntryView, MenuView
from hal.types import FingerPosition


@dataclass(frozen=True)
class Screen:
    """One drawn screen.

    ``menu`` and ``entry`` are what the buttons work: the menu stays there while a message
    covers it (the next UP or DOWN shows it again); an overlay's question has neither.
    ``finger`` is the finger the screen names (which to place, which to except); ``job``
    the device work under way, a new one per run (a finger, a photo, a seal, a print).
    """

    state: CaptureState
    language: Language
    lines: tuple[str, ...]
    menu: MenuView | None = None
    entry: EntryView | None = None
    finger: FingerPosition | None = None
    job: Job | None = None

    def __str__(self) -> str:
        """The screen in a message: the state and the lines."""
        return f"{self.state} showing {list(self.lines)}"

    def opens_with(self, key: str) -> bool:
        """Whether the screen opens with prompt ``key`` (one whose first line has no
        placeholder), in the kit's language: which message is shown, as the officer reads it.
        """
        return bool(self.lines) and self.lines[0] == heading(key, self.language)
