"""The GPIO panel driver against gpiozero's mock pins, pushed by hw_sim's MockPanelDriver."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hal.contracts import Panel
from hal.exc import DeviceAbsent
from hal.panel import COLOURS, TONES, GpioPanel, PanelPins
from hal.types import Button, Indicator, Press, Tone
from hw_sim.gpio import MockPanelDriver

HOLD = 0.1
WAIT = 5.0  # generous upper bound for background threads; never a timing assertion


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    previous = Device.pin_factory
    Device.pin_factory = MockFactory()
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = previous


@pytest.fixture
def panel(factory: MockFactory) -> Iterator[GpioPanel]:
    with GpioPanel(hold_seconds=HOLD) as panel:
        yield panel


@pytest.fixture
def officer(panel: GpioPanel, factory: MockFactory) -> MockPanelDriver:
    return MockPanelDriver(panel.pins, factory)


@pytest.fixture
def events(panel: GpioPanel) -> queue.Queue[tuple[Button, Press]]:
    got: queue.Queue[tuple[Button, Press]] = queue.Queue()
    panel.on_button(lambda button, press: got.put((button, press)))
    return got


def _drain(got: queue.Queue[tuple[Button, Press]]) -> list[tuple[Button, Press]]:
    items = []
    while not got.empty():
        items.append(got.get_nowait())
    return items


def _eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_satisfies_the_panel_contract(panel: GpioPanel) -> None:
    assert isinstance(panel, Panel)
    info = panel.probe()
    assert info.name == "panel"
    assert info.detail["back"] == "GPIO19"
    assert info.detail["pin_factory"] == "MockFactory"


@pytest.mark.parametrize("button", [Button.UP, Button.DOWN, Button.OK, Button.BACK])
def test_a_short_press_of_each_button_reaches_the_handler(
    officer: MockPanelDriver, events: queue.Queue[tuple[Button, Press]], button: Button
) -> None:
    officer.press(button.value)
    assert events.get(timeout=WAIT) == (button, Press.SHORT)
    assert _drain(events) == []


def test_holding_back_reports_hold_only(
    officer: MockPanelDriver, events: queue.Queue[tuple[Button, Press]]
) -> None:
    officer.press("back", hold_seconds=HOLD * 4)
    assert events.get(timeout=WAIT) == (Button.BACK, Press.HOLD)
    # the release ran in press(), so a SHORT would already be queued
    assert _drain(events) == []


def test_other_buttons_held_still_report_one_short(
    officer: MockPanelDriver, events: queue.Queue[tuple[Button, Press]]
) -> None:
    officer.press(Button.OK, hold_seconds=HOLD * 3)
    assert events.get(timeout=WAIT) == (Button.OK, Press.SHORT)
    assert _drain(events) == []


def test_back_after_a_hold_is_short_again(
    officer: MockPanelDriver, events: queue.Queue[tuple[Button, Press]]
) -> None:
    officer.press("back", hold_seconds=HOLD * 4)
    officer.press("back")
    assert [events.get(timeout=WAIT), events.get(timeout=WAIT)] == [
        (Button.BACK, Press.HOLD),
        (Button.BACK, Press.SHORT),
    ]


def test_detached_handler_hears_nothing(
    panel: GpioPanel, officer: MockPanelDriver, events: queue.Queue[tuple[Button, Press]]
) -> None:
    panel.on_button(None)
    officer.press("ok")
    assert _drain(events) == []
    assert officer.received == [("ok", 0.0)]


def test_unknown_button_name_is_refused(officer: MockPanelDriver) -> None:
    with pytest.raises(ValueError, match="valid: up, down, ok, back"):
        officer.press("menu")


@pytest.mark.parametrize(
    ("indicator", "colour"),
    [
        (Indicator.READY, (0.0, 1.0, 0.0)),
        (Indicator.BUSY, (0.0, 0.0, 1.0)),
        (Indicator.ATTENTION, (1.0, 1.0, 0.0)),
        (Indicator.FAULT, (1.0, 0.0, 0.0)),
        (Indicator.OFF, (0.0, 0.0, 0.0)),
    ],
)
def test_indicate_drives_the_led_pins(
    panel: GpioPanel, officer: MockPanelDriver, indicator: Indicator, colour: tuple
) -> None:
    panel.indicate(Indicator.FAULT if indicator is Indicator.OFF else Indicator.OFF)
    panel.indicate(indicator)
    assert officer.led_colour() == colour == COLOURS[indicator]


def test_saved_blinks_green_until_the_next_indicator(
    panel: GpioPanel, officer: MockPanelDriver
) -> None:
    panel.indicate(Indicator.SAVED)
    assert _eventually(lambda: officer.pulses("green") >= 2)
    panel.indicate(Indicator.BUSY)
    assert officer.led_colour() == (0.0, 0.0, 1.0)
    assert officer.pulses("red") == 0
    assert officer.pulses("blue") == 1


@pytest.mark.parametrize("tone", list(Tone))
def test_beep_drives_the_buzzer_pin(panel: GpioPanel, officer: MockPanelDriver, tone: Tone) -> None:
    assert not officer.buzzer_on()
    panel.beep(tone)
    beeps = TONES[tone][2]
    assert _eventually(lambda: officer.pulses("buzzer") == beeps and not officer.buzzer_on())


def test_tones_differ_by_ear() -> None:
    assert len(set(TONES.values())) == len(Tone)


def test_close_twice_releases_every_pin(factory: MockFactory) -> None:
    panel = GpioPanel(hold_seconds=HOLD)
    panel.indicate(Indicator.FAULT)
    panel.close()
    panel.close()
    # every pin is free again: a second panel can claim the same wiring
    with GpioPanel(hold_seconds=HOLD) as again:
        again.indicate(Indicator.READY)
    with pytest.raises(DeviceAbsent, match="closed"):
        panel.indicate(Indicator.READY)
    with pytest.raises(DeviceAbsent, match="closed"):
        panel.beep(Tone.OK)


def test_pins_taken_by_another_device_raise_device_absent(panel: GpioPanel) -> None:
    with pytest.raises(DeviceAbsent, match="cannot claim GPIO pins") as caught:
        GpioPanel(hold_seconds=HOLD, name="second panel")
    assert caught.value.device == "second panel"


def test_custom_pins_are_used(factory: MockFactory) -> None:
    pins = PanelPins(up=20, down=21, ok=16, back=12, red=23, green=24, blue=25, buzzer=4)
    with GpioPanel(pins=pins, hold_seconds=HOLD, pin_factory=factory) as panel:
        officer = MockPanelDriver(pins.as_dict(), factory)
        got: list[tuple[Button, Press]] = []
        panel.on_button(lambda button, press: got.append((button, press)))
        officer.press("down")
        panel.indicate(Indicator.ATTENTION)
        assert got == [(Button.DOWN, Press.SHORT)]
        assert officer.led_colour() == (1.0, 1.0, 0.0)


def test_duplicate_pins_are_refused() -> None:
    with pytest.raises(ValueError, match="must all differ"):
        PanelPins(up=5, down=5)


def test_hold_seconds_must_be_positive(factory: MockFactory) -> None:
    with pytest.raises(ValueError, match="hold_seconds"):
        GpioPanel(hold_seconds=0)
