"""One way to press the kit's buttons: an officer's hands, reading only the screen model.

:class:`KitDriver` presses buttons as an officer does and reads what they read, the
public :class:`capture.screen.Screen`, never a step.  It does not know how a press reaches
the kit: it is handed a ``press`` that returns once the kit has handled the press (the
loop stepped on the test's thread, or the panel's GPIO pins pressed while the Pi program
runs on its own).  The demo's officer bot, the capture tests' rig and the Pi entry test
all press through it.
"""

from __future__ import annotations

from collections.abc import Callable

from capture.errors import NotOnScreen
from capture.screen import Screen
from capture.widgets import Choice, MenuView
from hal.types import Button, Press

#: UP presses at most: a wanted digit further up is reached sooner with DOWN.
HALF_THE_DIGITS = 5


class KitDriver:
    """Presses the kit's buttons and reads its screen model (see the module's doc)."""

    def __init__(
        self, screen: Callable[[], Screen], press: Callable[[Button, Press], None]
    ) -> None:
        self._screen = screen
        self._press = press

    @property
    def screen(self) -> Screen:
        """What the kit shows now."""
        return self._screen()

    def press(self, *buttons: Button, hold: bool = False) -> None:
        """Press each button in turn (held if ``hold``), each handled before the next."""
        for button in buttons:
            self._press(button, Press.HOLD if hold else Press.SHORT)

    def scroll_to(
        self, wanted: Callable[[Choice], bool], *, what: str, button: Button = Button.DOWN
    ) -> None:
        """Press ``button`` until the highlighted choice is ``wanted`` (``what`` names it in
        the error); UP reaches the end of a long list at once, since the cursor wraps.

        Raises NotOnScreen when no menu is on screen or none of its choices is wanted.
        """
        menu = self._menu(what)
        for _ in range(len(menu.choices) - 1):
            if self._wanted(menu, wanted):
                return
            self._press(button, Press.SHORT)
            menu = self._menu(what)
        if not self._wanted(menu, wanted):
            raise NotOnScreen(f"{what} is not in the menu on screen: {self.screen}")

    def choose(
        self, wanted: Callable[[Choice], bool], *, what: str, button: Button = Button.DOWN
    ) -> None:
        """Scroll to the ``wanted`` choice and press OK on it."""
        self.scroll_to(wanted, what=what, button=button)
        self.press(Button.OK)

    def pick(self, value: object, *, what: str) -> None:
        """Choose the line that stands for ``value`` (a letter of a name being spelled, a
        menu item), turning the shorter way round the list, and press OK on it."""
        menu = self._menu(what)
        index = next((i for i, choice in enumerate(menu.choices) if choice.value == value), None)
        if index is None:
            raise NotOnScreen(f"{what} is not in the menu on screen: {self.screen}")
        down = (index - menu.cursor) % len(menu.choices)
        up = len(menu.choices) - down
        self.press(*([Button.DOWN] * down if down <= up else [Button.UP] * up), Button.OK)

    def key(self, digits: str) -> None:
        """Key ``digits`` into the entry on screen from its cursor on, OK after each: the
        digit under the cursor is read off the screen and turned the shorter way round."""
        for digit in digits:
            up = (int(digit) - self._digit_under_cursor(digits)) % 10
            turns = [Button.UP] * up if up <= HALF_THE_DIGITS else [Button.DOWN] * (10 - up)
            self.press(*turns, Button.OK)

    @staticmethod
    def _wanted(menu: MenuView, wanted: Callable[[Choice], bool]) -> bool:
        focus = menu.focus
        return focus is not None and wanted(focus)

    def _menu(self, what: str) -> MenuView:
        menu = self.screen.menu
        if menu is None:
            raise NotOnScreen(f"no menu to find {what} in: {self.screen}")
        return menu

    def _digit_under_cursor(self, digits: str) -> int:
        entry = self.screen.entry
        if entry is None or entry.digit is None:
            raise NotOnScreen(f"no digit to key {digits} into: {self.screen}")
        return entry.digit
