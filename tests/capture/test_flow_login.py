"""Booting, the self-test and the officer's login, by finger and by PIN."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from capture.events import ButtonEvent
from capture.prompts import prompt, word
from hw_sim.world import SimOfficer
from tests.capture.flows import BACK, OK, MakeRig, pin_login, shown

if TYPE_CHECKING:
    from conftest import Rig


def test_boot_self_test_then_login_by_finger(rig: Rig) -> None:
    assert rig.audit("self-test") == [{"faults": []}]
    assert rig.audit("login") == [{"officer": "PTG-001", "how": "finger"}]
    assert rig.screen[0] == "SIAP 90% kartu:10"
    assert rig.screen[1] == ">" + prompt("walk_in")[0]


def test_the_screen_is_drawn_once_per_event(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    display = rig.sim.devices.display
    show, drawn = display.show, []
    monkeypatch.setattr(display, "show", lambda lines: (drawn.append(list(lines)), show(lines)))
    assert rig.screen[1] == ">" + prompt("walk_in")[0]
    rig.controller.handle(ButtonEvent(OK))  # a transition: the new state's screen, drawn once
    assert rig.state == "nik_entry"
    assert drawn == [rig.screen]


def test_self_test_names_the_silent_device(make_rig: MakeRig) -> None:
    rig = make_rig(before_start=lambda sim: sim.devices.signature_pad.inject("unplugged"))
    assert rig.state == "self_test"
    assert rig.screen == shown("self_test_fault", device=word("device.signature-pad"))
    assert rig.audit("self-test")[0]["faults"][0].startswith("signature-pad: ")
    rig.press(OK)
    assert rig.state == "ready"  # the technician let it go on; the officer's finger logged in


def test_unknown_finger_is_refused_and_the_sensor_asked_again(make_rig: MakeRig) -> None:
    rig = make_rig(login=False)
    rig.bystanders.officer = SimOfficer("X", "STRANGER", "officer", "000000", seed=424242)
    rig.bystanders.offer_finger = True
    rig.settle(40)
    assert rig.state == "locked"
    assert rig.screen[-2:] == [prompt("finger_unknown")[0], prompt("locked")[-1]], "PIN: OK"
    assert rig.controller.busy  # it polls the sensor again for the next finger
    assert rig.audit("login") == []


def test_a_sensor_fault_at_the_lock_screen_is_named_and_the_pin_offered(make_rig: MakeRig) -> None:
    rig = make_rig(login=False)
    rig.sim.devices.fingerprint.inject("unplugged")
    rig.bystanders.offer_finger = True
    rig.settle(40)
    problem, check = prompt("fault.absent")
    fault = shown("device_error", device=word("device.fingerprint"), problem=problem, check=check)
    assert rig.screen == [prompt("locked")[0], *fault[:2], prompt("locked")[-1]]
    assert not rig.controller.busy, "a faulty sensor is not asked again and again"


def test_pin_wrong_then_right(make_rig: MakeRig) -> None:
    rig = make_rig(login=False)
    assert rig.state == "locked"
    assert rig.screen == shown("locked")
    rig.press(OK)
    assert rig.screen[0] == prompt("choose_officer")[0]
    rig.press(BACK)
    assert rig.state == "locked"
    pin_login(rig, "PTG-001", pin="111111")
    assert rig.state == "pin_entry"
    assert rig.screen[-1] == prompt("pin_wrong")[0]
    assert rig.audit("pin-wrong") == [{"officer": "PTG-001"}]
    rig.key_digits(rig.pin("PTG-001"))
    assert rig.state == "ready"
    assert rig.audit("login") == [{"officer": "PTG-001", "how": "pin"}]


def test_after_five_wrong_pins_the_wait_is_shown_in_full(make_rig: MakeRig) -> None:
    rig = make_rig(login=False)
    pin_login(rig, "PTG-001", pin="111111")
    for _ in range(4):
        rig.key_digits("111111")
    wait = rig.store.pin_wait()
    assert wait > 0
    assert rig.screen[0] == rig.store.officers["PTG-001"].name
    assert rig.screen[2:] == prompt("pin_wait", seconds=wait), "the wait, not a fifth line"
