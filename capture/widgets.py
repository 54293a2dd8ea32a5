"""The two ways an officer chooses with four buttons: a menu, and digit entry.

Each shows itself on the display (``lines``, ``text``) and describes what it shows for the
screen model (``view``: :class:`MenuView`, :class:`EntryView`), which is what a driver of
the kit reads instead of the widget itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from hal.types import Button

T = TypeVar("T")


@dataclass(frozen=True)
class Choice:
    """One line of a menu: the label the officer reads, and what the line stands for
    (the resident, the menu item, the officer), as the officer knows it."""

    label: str
    value: object


@dataclass(frozen=True)
class MenuView:
    """A menu as the screen shows it: its choices in order, and the highlighted one."""

    choices: tuple[Choice, ...]
    cursor: int

    @property
    def focus(self) -> Choice | None:
        """The highlighted choice (None in an empty menu)."""
        return self.choices[self.cursor] if self.choices else None


@dataclass(frozen=True)
class EntryView:
    """A digit entry as the screen shows it: how many digits, which one is under the
    cursor, and its value there (None once every digit is keyed)."""

    length: int
    position: int
    digit: int | None


@dataclass
class Menu(Generic[T]):
    """A list the officer scrolls with UP/DOWN; OK takes :attr:`focus`.

    Only ``rows`` lines fit under the screen's title line, so the window scrolls with the
    cursor.  The cursor wraps around, which is quicker than holding a button on a long list.
    """

    items: Sequence[tuple[str, T]]
    rows: int = 3
    cursor: int = 0

    def move(self, button: Button) -> None:
        if self.items:
            step = -1 if button is Button.UP else 1
            self.cursor = (self.cursor + step) % len(self.items)

    @property
    def focus(self) -> T | None:
        return self.items[self.cursor][1] if self.items else None

    def view(self) -> MenuView:
        return MenuView(tuple(Choice(label, value) for label, value in self.items), self.cursor)

    def lines(self) -> list[str]:
        top = min(max(0, self.cursor - self.rows + 1), max(0, len(self.items) - self.rows))
        shown = self.items[top : top + self.rows]
        return [
            (">" if top + i == self.cursor else " ") + label for i, (label, _) in enumerate(shown)
        ]


@dataclass
class DigitEntry:
    """Digits entered one at a time: UP/DOWN change the digit under the cursor, OK moves on.

    BACK steps back one digit (and reports ``False`` from :meth:`press` at the first digit,
    so the caller can leave).  Digits already entered are kept when stepping back.
    """

    length: int
    digits: list[int] = field(default_factory=list)
    position: int = 0
    masked: bool = False

    def __post_init__(self) -> None:
        if not self.digits:
            self.digits = [0] * self.length

    def press(self, button: Button) -> bool:
        """Apply a button; False when BACK was pressed on the first digit.

        Once complete there is no digit under the cursor: UP and DOWN do nothing.
        """
        if button in (Button.UP, Button.DOWN) and self.complete:
            return True
        if button is Button.UP:
            self.digits[self.position] = (self.digits[self.position] + 1) % 10
        elif button is Button.DOWN:
            self.digits[self.position] = (self.digits[self.position] - 1) % 10
        elif button is Button.OK:
            self.position = min(self.position + 1, self.length)
        elif button is Button.BACK:
            if self.position == 0:
                return False
            self.position -= 1
        return True

    @property
    def complete(self) -> bool:
        return self.position >= self.length

    @property
    def value(self) -> str:
        return "".join(str(d) for d in self.digits)

    def view(self) -> EntryView:
        digit = None if self.complete else self.digits[self.position]
        return EntryView(self.length, self.position, digit)

    def text(self) -> str:
        """The entry as shown: entered digits (or *), the current digit in brackets."""
        shown = []
        for i, digit in enumerate(self.digits):
            char = "*" if self.masked and i < self.position else str(digit)
            shown.append(f"[{char}]" if i == self.position else char if i < self.position else "_")
        return "".join(shown)
