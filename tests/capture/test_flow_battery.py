"""The battery: a low one refuses new people, a critical one shuts down safely."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from capture.events import Tick
from hal.types import Indicator
from tests.capture.flows import (
    OK,
    TO_POWERED,
    TO_RULE_STATE,
    TO_STATE,
    clean_person,
    enrol,
    shown,
    to_review,
)

if TYPE_CHECKING:
    from conftest import Rig


def test_low_battery_refuses_a_new_enrolment(rig: Rig) -> None:
    rig.world.battery.set_percent(10)
    rig.tick(31)
    rig.choose(clean_person(rig).name)
    rig.press(OK)
    assert rig.state == "ready"
    assert rig.screen == shown("refused_battery", percent=int(rig.world.battery.percent))
    assert rig.screen[0].startswith("Baterai lemah 9")  # 10 % and a little drain
    assert rig.controller.draft is None


@pytest.mark.parametrize("state", sorted(TO_POWERED))
def test_critical_battery_shuts_down_safely(rig: Rig, state: str) -> None:
    TO_STATE[state](rig)
    assert rig.state == state, rig.screen
    rig.world.battery.set_percent(4)
    rig.tick(31)
    assert rig.state == "safe_shutdown"
    assert rig.screen == shown("shutdown.battery_critical")
    assert rig.audit("safe-shutdown")[-1]["percent"] < 5


@pytest.mark.parametrize("state", sorted(TO_RULE_STATE))
def test_critical_battery_shuts_down_safely_from_a_rule_state(rig: Rig, state: str) -> None:
    test_critical_battery_shuts_down_safely(rig, state)


def test_critical_battery_found_on_the_way_to_the_list_switches_off(rig: Rig) -> None:
    enrol(rig)
    rig.world.battery.set_percent(4)
    rig.press(OK)  # the list reads the battery before it offers anyone
    assert rig.state == "safe_shutdown"
    assert rig.screen == shown("shutdown.battery_critical")
    assert rig.sim.devices.panel.indicator is Indicator.OFF


def test_critical_battery_while_sealing_finishes_the_record_first(rig: Rig) -> None:
    to_review(rig)
    rig.tick(31)  # a battery reading now, so the next one is due only 30 s later
    rig.world.battery.set_percent(4)
    rig.kit.press(OK)  # seal; the battery is read while the seal runs
    rig.kit.loop.post(Tick(rig.world.clock.now() + timedelta(seconds=31)))
    rig.settle()
    assert rig.state == "safe_shutdown"
    assert rig.store.last_seq == 1
    assert rig.store.ledger.counts()["printed"] == 1
    assert rig.store.journal.load() is None
