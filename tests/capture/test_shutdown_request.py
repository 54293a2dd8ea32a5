"""A safe shutdown asked for from outside the loop (the power co-processor): its reason on
the screen in both languages, and the seal or print under way finishing first."""

from __future__ import annotations

from capture.events import ShutdownAsked, ShutdownReason
from capture.machine import FINISH_FIRST, POWER_OFF_AT_ONCE, SEAL_UNDER_WAY, CaptureState
from capture.prompts import Language
from hal.types import Button, Indicator
from tests.capture.conftest import Rig
from tests.capture.flows import shown, to_review

OK = Button.OK


def ask(rig: Rig, reason: ShutdownReason) -> None:
    rig.kit.loop.post(ShutdownAsked(reason))
    rig.settle()


def test_the_power_button_switches_the_ready_kit_off_and_says_why(rig: Rig) -> None:
    ask(rig, ShutdownReason.POWER_BUTTON)
    assert rig.state is CaptureState.SAFE_SHUTDOWN
    assert rig.screen == shown("shutdown.power_button")
    assert rig.screen[0] == "Dimatikan dengan"
    assert rig.sim.devices.panel.indicator is Indicator.OFF
    assert rig.audit("safe-shutdown")[-1]["reason"] == "power_button"


def test_the_shutdown_screen_speaks_english_on_an_english_kit(rig: Rig) -> None:
    rig.controller.language = Language.EN
    ask(rig, ShutdownReason.BATTERY_CRITICAL)
    assert rig.screen == shown("shutdown.battery_critical", Language.EN)
    assert rig.screen[0] == "Battery critical"


def test_a_request_during_the_seal_waits_for_the_record_and_its_print(rig: Rig) -> None:
    to_review(rig)
    rig.kit.press(OK)  # seal
    rig.kit.loop.post(ShutdownAsked(ShutdownReason.POWER_BUTTON))  # handled while sealing
    rig.settle()
    assert rig.state is CaptureState.SAFE_SHUTDOWN
    assert rig.store.last_seq == 1
    assert rig.store.ledger.counts()["printed"] == 1
    assert rig.store.journal.load() is None
    assert rig.screen == shown("shutdown.power_button")


def test_the_first_reason_given_is_the_one_shown(rig: Rig) -> None:
    rig.world.battery.set_percent(4)
    rig.tick(31)
    assert rig.screen == shown("shutdown.battery_critical")
    ask(rig, ShutdownReason.POWER_BUTTON)  # too late: the kit is already off
    assert rig.state is CaptureState.SAFE_SHUTDOWN
    assert rig.screen == shown("shutdown.battery_critical")
    assert len(rig.audit("safe-shutdown")) == 1


def test_finish_first_and_seal_under_way_are_read_off_the_machine() -> None:
    assert {
        CaptureState.BOOT,
        CaptureState.SELF_TEST,
        CaptureState.SEALING,
        CaptureState.PRINTING,
    } == FINISH_FIRST
    assert not FINISH_FIRST & POWER_OFF_AT_ONCE
    assert {CaptureState.SEALING} == SEAL_UNDER_WAY
