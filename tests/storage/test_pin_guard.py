"""The PIN back-off: five wrong PINs, then waits that double, kept across a reboot, and a
row deleted or edited on the card with the kit off counted as the longest wait."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from storage.kit import KitStore, provision
from storage.model import Policy
from storage.officers import make_officer
from storage.pin_guard import LONGEST_WAIT_SECONDS, MOST_FAILURES, TAMPERED, wait_after
from storage.state import MIGRATIONS
from tests.storage.conftest import AUTHORITY, NOW, provision_tpm_kit
from tests.swtpm import SoftwareTpm
from vocabulary.people import Role

OFFICER = make_officer("PTG-1", "SITI", Role.OFFICER, "246810", finger_pages=(0,))


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


def provision_kit(data_dir: Path, kit_id: str = "TEST-3505-03") -> Path:
    provision(
        data_dir,
        authority=AUTHORITY,
        kit_id=kit_id,
        region="3505",
        officers=(OFFICER,),
        worklist=(),
        policy=Policy(),
        now=NOW,
    )
    return data_dir


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    return provision_kit(tmp_path / "kit")


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


def _delete(data_dir: Path, _: Path) -> None:
    with sqlite3.connect(data_dir / "state.db") as db:
        db.execute("DELETE FROM pin_guard")


def _flip_a_byte(data_dir: Path, _: Path) -> None:
    with sqlite3.connect(data_dir / "state.db") as db:
        (sealed,) = db.execute("SELECT sealed FROM pin_guard").fetchone()
        edited = sealed[:-1] + bytes((sealed[-1] ^ 1,))
        db.execute("UPDATE pin_guard SET sealed = ?", (edited,))


def _another_kits_row(data_dir: Path, tmp_path: Path) -> None:
    """A zero count sealed by another kit (whose data key the attacker may hold)."""
    other = provision_kit(tmp_path / "other", "TEST-3505-04")
    with sqlite3.connect(other / "state.db") as db:
        (sealed,) = db.execute("SELECT sealed FROM pin_guard").fetchone()
    with sqlite3.connect(data_dir / "state.db") as db:
        db.execute("UPDATE pin_guard SET sealed = ?", (sealed,))


def _old_schema(data_dir: Path, _: Path) -> None:
    """A state.db passed off as one from before the row was sealed (schema 4, no row):
    what later versions made is dropped, so their migrations run again at the boot."""
    sealing = 4  # MIGRATIONS[4] takes schema 4 to 5: the row sealed
    later = re.findall(r"CREATE TABLE (\w+)", "".join(MIGRATIONS[sealing + 1 :]))
    with sqlite3.connect(data_dir / "state.db") as db:
        for table in ("pin_guard", *later):
            db.execute(f"DROP TABLE {table}")
        db.execute(
            "CREATE TABLE pin_guard (id INTEGER PRIMARY KEY CHECK (id = 1), "
            "failures INTEGER NOT NULL, wait_until TEXT)"
        )
        db.execute("PRAGMA user_version = 4")


def _no_state_db(data_dir: Path, _: Path) -> None:
    for part in data_dir.glob("state.db*"):
        part.unlink()


def assert_longest_wait_audited(store: KitStore, clock: Clock, row: str) -> None:
    """The back-off stands at its longest; the audit log and the boot notes name why."""
    assert store.pin_wait() == LONGEST_WAIT_SECONDS
    assert store.check_pin("PTG-1", "246810") is None, "not even the right PIN meanwhile"
    found = [d for _, _, kind, d in store.audit.entries() if kind == TAMPERED]
    assert found == [{"row": row, "failures": MOST_FAILURES, "wait": LONGEST_WAIT_SECONDS}]
    assert any(f"PIN back-off row in state.db {row}" in note for note in store.boot_notes)
    clock.at += timedelta(seconds=LONGEST_WAIT_SECONDS)
    assert store.check_pin("PTG-1", "111111") is None
    assert store.pin_wait() == LONGEST_WAIT_SECONDS, "a wrong PIN after it: another hour"


@pytest.mark.parametrize(
    ("edit", "row"),
    [
        (_delete, "was deleted"),
        (_flip_a_byte, "was altered"),
        (_another_kits_row, "was altered"),
        (_old_schema, "was deleted"),
        (_no_state_db, "was deleted"),
    ],
    ids=["deleted", "edited", "another-kits-row", "old-schema", "state-db-deleted"],
)
def test_a_back_off_row_deleted_or_edited_with_the_kit_off_counts_as_the_longest_wait(
    kit: Path, tmp_path: Path, edit: Callable[[Path, Path], None], row: str
) -> None:
    """Before issue 25 the count sat in clear in state.db: deleting the row with the kit
    off gave five free tries again."""
    clock = Clock()
    with KitStore(kit, now=clock) as store:
        for _ in range(7):
            clock.at += timedelta(seconds=store.pin_wait())
            store.check_pin("PTG-1", "000000")
        assert store.pin_wait() == wait_after(7) == 120
    edit(kit, tmp_path)  # the card on a laptop
    with KitStore(kit, now=clock) as rebooted:
        assert_longest_wait_audited(rebooted, clock, row)
    with KitStore(kit, now=clock) as again:  # noted once: the row written back opens
        assert again.pin_wait() == LONGEST_WAIT_SECONDS
        assert sum(kind == TAMPERED for _, _, kind, _ in again.audit.entries()) == 1


def test_a_flashed_kit_starts_at_zero_and_a_right_pin_keeps_a_row(kit: Path) -> None:
    clock = Clock()
    with KitStore(kit, now=clock) as store:
        assert store.pin_wait() == 0 and store.boot_notes == []
        assert store.check_pin("PTG-1", "246810") == OFFICER
    with sqlite3.connect(kit / "state.db") as db:
        assert db.execute("SELECT COUNT(*) FROM pin_guard").fetchone() == (1,)


def test_a_tpm_kits_back_off_row_deleted_with_the_kit_off_counts_as_the_longest_wait(
    software_tpm: SoftwareTpm, tmp_path: Path
) -> None:
    """The row is sealed under the TPM-sealed data key: the card alone opens nothing."""
    data_dir = tmp_path / "kit"
    provision_tpm_kit(data_dir, software_tpm.tcti)
    _delete(data_dir, tmp_path)
    clock = Clock()
    with KitStore(data_dir, now=clock, tcti=software_tpm.tcti) as store:
        assert store.pin_wait() == LONGEST_WAIT_SECONDS
        found = [d["row"] for _, _, kind, d in store.audit.entries() if kind == TAMPERED]
        assert found == ["was deleted"]
