"""Officers' login fingers, put on the sensor by a supervisor from the officer's menu."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from capture.login_fingers import LoginSlot
from capture.prompts import prompt
from hw_sim.world import Glass
from tests.capture.flows import (
    BACK,
    DOWN,
    OK,
    MakeRig,
    admin_item,
    clean_person,
    enrol,
    lock_by_menu,
    open_admin,
    pin_login,
    shown,
)

if TYPE_CHECKING:
    from conftest import Rig

SUPERVISOR, OFFICER, OFFICIAL = "SPV-001", "PTG-001", "KDS-001"


def as_flashed(make_rig: MakeRig) -> Rig:
    """A kit as a flash leaves it: the officers' pages reserved, no finger on the sensor;
    the supervisor logs in with their PIN and opens the login fingers."""
    rig = make_rig(login=False, before_start=lambda sim: sim.devices.fingerprint.clear_library())
    locked = shown("locked")  # the note stands above the way on by PIN
    assert rig.screen == [*locked[:2], *shown("login_fingers_missing", count=3), locked[-1]]
    pin_login(rig, SUPERVISOR)
    assert rig.state == "ready", rig.screen
    return rig


def to_login_fingers(rig: Rig) -> None:
    admin_item(rig, "login_fingers")
    assert rig.state == "login_fingers", rig.screen


def choose_officer(rig: Rig, officer_id: str) -> None:
    """OK on ``officer_id``'s line of the list."""
    rig.driver.choose(
        lambda c: isinstance(c.value, LoginSlot) and c.value.officer.officer_id == officer_id,
        what=officer_id,
    )


def held(rig: Rig) -> dict[str, bool]:
    """Whether the list on screen says each officer's login finger is on the sensor."""
    menu = rig.controller.view.menu
    assert menu is not None, rig.screen
    slots = [c.value for c in menu.choices if isinstance(c.value, LoginSlot)]
    return {slot.officer.officer_id: slot.held for slot in slots}


def test_a_supervisor_enrols_refuses_and_removes_login_fingers(make_rig: MakeRig) -> None:
    rig = as_flashed(make_rig)
    assert rig.audit("library-reconciled")[0]["officer_pages_missing"] == [0, 1, 2]
    resident = enrol(rig, clean_person(rig))  # record #1: their fingers go on the sensor
    rig.press(OK)
    to_login_fingers(rig)
    assert rig.screen[0] == prompt("login_fingers")[0]
    assert held(rig) == {OFFICER: False, SUPERVISOR: False, OFFICIAL: False}

    rig.bystanders.stand_in = resident  # a resident's finger, already on the sensor
    choose_officer(rig, OFFICER)
    assert rig.state == "enrol_login_finger"
    assert rig.screen == shown("login_finger_refused.resident", seq=1)
    rig.bystanders.stand_in = None  # the officer steps up: two captures, then stored
    rig.press(OK)
    assert rig.state == "login_fingers"
    officer = rig.store.officers[OFFICER]
    assert rig.screen == shown("login_finger_kept", name=officer.name)
    assert 0 in rig.sim.devices.fingerprint.library
    assert held(rig)[OFFICER]

    rig.bystanders.stand_in = rig.world.officer(OFFICER)  # at the official's enrolment
    choose_officer(rig, OFFICIAL)
    assert rig.screen == shown("login_finger_refused.other-officer", other=officer.name)
    rig.press(BACK)
    assert rig.state == "login_fingers" and not held(rig)[OFFICIAL]
    assert [
        (a["officer"], a["why"], a["seq"], a["other"]) for a in rig.audit("login-finger-refused")
    ] == [(OFFICER, "resident", 1, None), (OFFICIAL, "other-officer", None, OFFICER)]
    (enrolled,) = rig.audit("login-finger-enrolled")
    assert enrolled.pop("quality") > 0, "the better of the two captures' quality"
    assert enrolled == {"officer": OFFICER, "page": 0, "by": SUPERVISOR}

    rig.bystanders.stand_in = None
    rig.press(BACK)
    assert rig.state == "ready"
    rig.bystanders.offer_finger = True  # the officer logs in by finger
    admin_item(rig, "lock")
    assert rig.state == "ready" and rig.audit("login")[-1] == {"officer": OFFICER, "how": "finger"}
    open_admin(rig)  # an officer's menu has no login fingers
    assert prompt("admin.login_fingers")[0] not in rig.text

    rig.press(BACK)
    lock_by_menu(rig)
    pin_login(rig, SUPERVISOR)
    to_login_fingers(rig)
    choose_officer(rig, OFFICER)  # held: enrol again, or remove
    assert rig.screen[1:] == [
        ">" + prompt("login_finger.again")[0],
        *[" " + prompt(key)[0] for key in ("login_finger.remove", "admin.back")],
    ]
    rig.press(DOWN, OK)
    assert rig.screen == shown("confirm_remove_login_finger", name=officer.name)
    rig.press(OK)
    assert rig.screen == shown("login_finger_removed", name=officer.name)
    assert 0 not in rig.sim.devices.fingerprint.library and not held(rig)[OFFICER]
    assert rig.audit("login-finger-removed") == [{"officer": OFFICER, "page": 0, "by": SUPERVISOR}]

    rig.press(BACK)
    rig.bystanders.offer_finger = True  # their finger is refused at the lock; the PIN works
    admin_item(rig, "lock")
    assert rig.state == "locked" and prompt("finger_unknown")[0] in rig.screen
    rig.bystanders.offer_finger = False
    pin_login(rig, OFFICER)
    assert rig.state == "ready" and rig.audit("login")[-1] == {"officer": OFFICER, "how": "pin"}


@pytest.mark.parametrize("state", ["login_fingers", "enrol_login_finger"])
def test_the_idle_lock_and_a_critical_battery_end_the_login_finger_screens(
    make_rig: MakeRig, state: str
) -> None:
    rig = as_flashed(make_rig)
    rig.world.glass = Glass.NONE  # nobody at the sensor: the capture waits

    def reach() -> None:
        to_login_fingers(rig)
        if state == "enrol_login_finger":
            choose_officer(rig, OFFICER)
            assert rig.screen == shown("login_finger_none")
        assert rig.state == state, rig.screen

    reach()
    rig.tick(rig.store.policy.idle_lock_seconds)
    assert rig.state == "locked" and rig.audit("idle-lock")[-1]["state"] == state
    pin_login(rig, SUPERVISOR)
    reach()
    rig.world.battery.set_percent(4)
    rig.tick(31)
    assert rig.state == "safe_shutdown"
