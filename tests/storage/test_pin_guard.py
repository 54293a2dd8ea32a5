"""The PIN back-off: five wrong PINs, then waits that double, kept across a reboot."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from storage.kit import KitStore, provision
from storage.model import Policy
from storage.officers import make_officer
from storage.pin_guard import wait_after
from tests.storage.conftest import AUTHORITY, NOW
from vocabulary.people import Role

OFFICER = make_officer("PTG-1", "SITI", Role.OFFICER, "246810", finger_pages=(0,))


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    data_dir = tmp_path / "kit"
    provision(
        data_dir,
        authority=AUTHORITY,
        kit_id="TEST-3505-03",
        region="3505",
        officers=(OFFICER,),
        worklist=(),
        policy=Policy(),
        now=NOW,
    )
    return data_dir


def test_the_waits_start_at_the_fifth_wrong_pin_and_double_up_to_an_hour() -> None:
    assert [wait_after(n) for n in range(1, 9)] == [0, 0, 0, 0, 30, 60, 120, 240]
    assert wait_after(40) == 3600


def test_five_wrong_pins_make_the_kit_wait_even_for_the_right_one_and_a_reboot(
    kit: Path,
) -> None:
    clock = Clock()
    with KitStore(kit, now=clock) as store:
        for _ in range(4):
            assert store.check_pin("PTG-1", "000000") is None
        assert store.pin_wait() == 0
        assert store.check_pin("PTG-1", "000000") is None
        assert store.pin_wait() == 30
        assert store.check_pin("PTG-1", "246810") is None, "not even tried while waiting"
        backoff = [d for _, _, kind, d in store.audit.entries() if kind == "pin-backoff"]
        assert backoff == [{"officer": "PTG-1", "failures": 5, "wait": 30}]
    clock.at += timedelta(seconds=10)
    with KitStore(kit, now=clock) as rebooted:
        assert rebooted.pin_wait() == 20, "a power cycle does not reset the wait"
        clock.at += timedelta(seconds=20)
        assert rebooted.check_pin("PTG-1", "111111") is None
        assert rebooted.pin_wait() == 60, "the sixth wrong PIN waits twice as long"
        clock.at += timedelta(seconds=60)
        assert rebooted.check_pin("PTG-1", "246810") == OFFICER
        assert rebooted.pin_wait() == 0
        assert rebooted.check_pin("PTG-1", "000000") is None
        assert rebooted.pin_wait() == 0, "a right PIN starts the count again"
