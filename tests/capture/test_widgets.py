"""The menu and the digit entry: what four buttons do to them, and what they show."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capture.widgets import DigitEntry, Menu
from hal.types import Button

buttons = st.lists(st.sampled_from(list(Button)), max_size=60)


def menu_of(count: int, rows: int = 3) -> Menu[int]:
    return Menu([(f"item {i}", i) for i in range(count)], rows=rows)


def test_menu_wraps_both_ways() -> None:
    menu = menu_of(4)
    menu.move(Button.UP)
    assert menu.focus == 3
    menu.move(Button.DOWN)
    assert menu.focus == 0


def test_menu_window_scrolls_with_the_cursor() -> None:
    menu = menu_of(5)
    assert menu.lines() == [">item 0", " item 1", " item 2"]
    for _ in range(3):
        menu.move(Button.DOWN)
    assert menu.lines() == [" item 1", " item 2", ">item 3"]
    menu.move(Button.DOWN)
    assert menu.lines() == [" item 2", " item 3", ">item 4"]
    menu.move(Button.DOWN)  # wraps to the top: the window follows
    assert menu.lines() == [">item 0", " item 1", " item 2"]


def test_empty_menu_has_no_focus_and_ignores_moves() -> None:
    menu = menu_of(0)
    menu.move(Button.DOWN)
    assert (menu.focus, menu.lines()) == (None, [])


@given(count=st.integers(1, 12), rows=st.integers(1, 5), moves=buttons)
def test_menu_always_shows_the_cursor_in_a_full_window(
    count: int, rows: int, moves: list[Button]
) -> None:
    menu = menu_of(count, rows)
    position = 0
    for button in moves:
        menu.move(button)
        if button is Button.UP:
            position = (position - 1) % count
        elif button in (Button.DOWN, Button.OK, Button.BACK):
            position = (position + 1) % count
    assert menu.focus == position
    lines = menu.lines()
    assert len(lines) == min(rows, count)
    assert [line[0] for line in lines].count(">") == 1
    assert f">item {position}" in lines


def test_digit_entry_up_down_wrap() -> None:
    entry = DigitEntry(3)
    entry.press(Button.DOWN)
    assert entry.value == "900"
    entry.press(Button.UP)
    entry.press(Button.UP)
    assert entry.value == "100"


def test_digit_entry_ok_moves_on_and_back_steps_back() -> None:
    entry = DigitEntry(3)
    assert entry.text() == "[0]__"
    entry.press(Button.UP)
    entry.press(Button.OK)
    assert entry.text() == "1[0]_"
    assert entry.press(Button.BACK)
    assert entry.text() == "[1]__"  # the digit entered is kept
    assert entry.press(Button.BACK) is False  # BACK at the first digit: the caller leaves
    assert not entry.complete


def test_digit_entry_completes_after_the_last_ok() -> None:
    entry = DigitEntry(2, digits=[4, 2])
    entry.press(Button.OK)
    assert not entry.complete
    entry.press(Button.OK)
    assert entry.complete and entry.value == "42"
    entry.press(Button.OK)
    assert entry.position == 2


def test_masked_entry_hides_the_digits_entered() -> None:
    entry = DigitEntry(4, masked=True)
    for _ in range(2):
        entry.press(Button.UP)
        entry.press(Button.OK)
    entry.press(Button.UP)
    assert entry.text() == "**[1]_"
    assert entry.value == "1110"


@pytest.mark.parametrize("masked", [False, True])
@given(digits=st.text("0123456789", min_size=1, max_size=16))
def test_any_digits_can_be_keyed(masked: bool, digits: str) -> None:
    entry = DigitEntry(len(digits), masked=masked)
    for digit in digits:
        for _ in range(int(digit)):
            entry.press(Button.UP)
        entry.press(Button.OK)
    assert entry.complete
    assert entry.value == digits
    assert entry.text() == ("*" * len(digits) if masked else digits)


@given(length=st.integers(1, 8), moves=buttons)
def test_digit_entry_stays_in_range(length: int, moves: list[Button]) -> None:
    entry = DigitEntry(length)
    for button in moves:
        entry.press(button)
    assert 0 <= entry.position <= length
    assert len(entry.value) == length and entry.value.isdigit()
    assert entry.text().count("[") == (0 if entry.complete else 1)
