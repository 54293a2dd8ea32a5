"""A display that dies mid-session must not stop an enrolment: the LED says so instead."""

from __future__ import annotations

from hal.types import Button, Indicator
from tests.capture.flows import start


def test_enrolment_goes_on_when_the_display_stops_answering(rig) -> None:
    rig.kit.devices.display.inject("unplugged")
    rig.press(Button.DOWN, Button.OK)  # the first resident on the worklist

    assert rig.state == "confirm_person"
    assert rig.kit.devices.panel.indicator is Indicator.FAULT
    start(rig)  # the notice is read from the officer's sheet, pages by OK
    assert rig.state == "face", "the officer can go on by the buttons and the LED alone"
