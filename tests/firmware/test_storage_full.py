"""A disk that fills during a capture: the "storage full" screen, nothing lost, then resume.

The kit's data folder is on a tmpfs of its own (mounted here: the tests run as root, as
CI does), so the full disk is a real ENOSPC that SQLite reports as "database or disk is
full".  The kit is driven through its real capture loop by the demo's officer bot.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from capture.controller import StorageFullNotice
from capture.machine import CaptureState
from capture.prompts import Language, prompt
from firmware.logs import DroppingFileHandler, setup_logging
from hal.types import Button
from hw_sim.world import Person
from simulator.demo import OfficerBot
from simulator.kit import SimKit, open_sim_kit
from simulator.options import SimOptions
from storage.files import FileOps
from storage.kit import KitStore, provision
from storage.model import Policy
from tests.storage.conftest import AUTHORITY, NOW, enrolment, now

#: The tmpfs: room for a kit, a record and the policy's 50 MiB reserve; filled in a moment.
TMPFS_SIZE = "96m"
#: Presses the bot may make before the full disk must show (a photo, then its journal).
PRESSES = 6


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", mount], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", mount], check=True)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk`` with one file; its path (delete it to free space)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while os.write(fd, bytes(size)):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


def start_someone(sim: SimKit) -> tuple[OfficerBot, Person]:
    """The officer logs in and starts a resident not recorded yet: the capture begins."""
    bot = OfficerBot(sim.kit, sim.world, sim.bystanders)
    bot.settle()
    bot.login(by_pin=False)
    recorded = sim.kit.store.recorded_refs()
    person = next(p for p in sim.world.residents if p.nik not in recorded)
    bot.select_resident(person)
    bot.press(Button.OK)
    controller = sim.kit.controller
    bot.until(lambda: controller.state is CaptureState.FACE, lambda: bot.act(person))  # notice
    return bot, person


def test_a_disk_full_mid_capture_holds_the_enrolment_until_space_is_freed(
    small_disk: Path,
) -> None:
    with open_sim_kit(SimOptions(small_disk / "kit", clock_speed=0.0)) as sim:
        kit, ctl = sim.kit, sim.kit.controller
        bot, person = start_someone(sim)  # the right person: the capture starts
        assert ctl.state is CaptureState.FACE
        filler = fill(small_disk)
        for _ in range(PRESSES):
            if isinstance(ctl.shown_overlay, StorageFullNotice):
                break
            bot.act(person)
        assert isinstance(ctl.shown_overlay, StorageFullNotice), ctl.screen
        assert ctl.screen[0] == prompt("storage_full", Language.ID)[0] == "Penyimpanan penuh"
        held = ctl.state
        # fingers already under way go on being captured into the draft in memory; what
        # needs a button waits for the save
        captures = (CaptureState.FACE, CaptureState.FINGERS, CaptureState.SIGNATURE)
        assert held in captures and ctl.draft is not None and ctl.session.journal_unsaved

        bot.press(Button.OK)  # still full: the screen stays, the draft stays in memory
        assert isinstance(ctl.shown_overlay, StorageFullNotice) and ctl.state is held
        bot.press(Button.BACK)  # any other button waits too
        assert isinstance(ctl.shown_overlay, StorageFullNotice)

        os.unlink(filler)  # the technician frees space
        bot.press(Button.OK)
        # a pen already down on the pad finishes its signature, as fingers under way do
        under_way = {CaptureState.SIGNATURE: CaptureState.REVIEW}
        assert ctl.shown_overlay is None and ctl.state in (held, under_way.get(held, held))
        assert not ctl.session.journal_unsaved
        assert kit.store.journal.load() is not None, "the enrolment is in the journal now"
        bot.until(lambda: ctl.state == CaptureState.DONE, lambda: bot.act(person))
        sealed = ctl.sealed
        assert sealed is not None
        assert kit.store.status().sealed == 1
        assert person.nik in kit.store.recorded_refs()  # the demo's worklist refs are NIKs


def test_a_disk_full_at_the_seal_loses_nothing_and_the_save_succeeds_later(
    small_disk: Path,
) -> None:
    """The record write fails (ENOSPC), its seal-failed audit entry waits, nothing crashes."""
    with open_sim_kit(SimOptions(small_disk / "kit", clock_speed=0.0)) as sim:
        kit, ctl = sim.kit, sim.kit.controller
        bot, person = start_someone(sim)
        bot.until(lambda: ctl.state == CaptureState.REVIEW, lambda: bot.act(person))
        filler = fill(small_disk)
        bot.press(Button.OK)  # save: the record cannot be written
        assert ctl.state is CaptureState.REVIEW and ctl.draft is not None
        assert kit.store.status().sealed == 0
        os.unlink(filler)
        if isinstance(ctl.shown_overlay, StorageFullNotice):
            bot.press(Button.OK)
        bot.until(lambda: ctl.state == CaptureState.DONE, lambda: bot.act(person))
        assert kit.store.status().sealed == 1 and person.nik in kit.store.recorded_refs()
        kinds = [kind for _, _, kind, _ in kit.store.audit.entries()]
        assert "seal-failed" in kinds, "the entry that waited for space was written"


class FillAfterNextRecord(FileOps):
    """The real filesystem, which fills ``disk`` once the next record's name is durable:
    the record fits, the index row and the audit entry after it do not."""

    def __init__(self, disk: Path) -> None:
        self.disk = disk
        self.armed = False
        self.filler: Path | None = None

    def fsync_dir(self, folder: Path) -> None:
        super().fsync_dir(folder)
        if self.armed:
            self.armed = False
            self.filler = fill(self.disk)


@pytest.fixture
def kit_on_small_disk(small_disk: Path) -> Path:
    data_dir = small_disk / "kit"
    provision(
        data_dir,
        authority=AUTHORITY,
        kit_id="TEST-3505-08",
        region="3505",
        officers=(),
        worklist=(),
        policy=Policy(reserve_bytes=8 * 1024 * 1024),  # the least the policy allows
        now=NOW,
    )
    return data_dir


def test_a_record_whose_file_fits_is_saved_though_its_index_row_does_not(
    small_disk: Path, kit_on_small_disk: Path
) -> None:
    """Before issue 25 the seal said "NOT saved" here, though the record was durable and
    the chain had moved: the officer would have enrolled the person again."""
    ops = FillAfterNextRecord(small_disk)
    with KitStore(kit_on_small_disk, now=now, ops=ops) as store:
        store.seal(enrolment(1))
        ops.armed = True
        sealed = store.seal(enrolment(2))  # the file is durable: saved, whatever follows
        assert ops.filler is not None, "the disk filled after the record"
        assert sealed.seq == 2 and store.last_seq == 2 and store.status().sealed == 2
        assert sealed.path.exists()
        assert [row[0] for row in store.index.rows()] == [1], "the row waits for space"
        assert "REF-2" in store.recorded_refs(), "yet the person counts as recorded"
        assert store.refusal() is not None, "no new enrolment on a full disk"
    os.unlink(ops.filler)  # space returns while the kit is off
    with KitStore(kit_on_small_disk, now=now) as rebooted:
        assert sorted(row[0] for row in rebooted.index.rows()) == [1, 2]
        assert any("indexed 1 record(s) from their files" in n for n in rebooted.boot_notes)
        assert "REF-2" in rebooted.recorded_refs() and rebooted.last_seq == 2
        assert rebooted.seal(enrolment(3)).seq == 3, "the chain goes on after the repair"


def test_an_index_row_that_waited_is_written_once_space_returns(
    small_disk: Path, kit_on_small_disk: Path
) -> None:
    ops = FillAfterNextRecord(small_disk)
    with KitStore(kit_on_small_disk, now=now, ops=ops) as store:
        ops.armed = True
        store.seal(enrolment(1))
        assert store.index.rows() == [] and ops.filler is not None
        os.unlink(ops.filler)
        assert store.refusal() is None  # the space check before the next enrolment
        assert [row[0] for row in store.index.rows()] == [1]
        seals = [d for _, _, kind, d in store.audit.entries() if kind == "seal"]
        assert seals == [{"seq": 1, "officer": "OFF-1", "voids": None}]


@pytest.fixture
def kit_log(small_disk: Path) -> Iterator[tuple[Path, DroppingFileHandler]]:
    """The kit's log set up on the small disk; the root logger as it was, afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    path = setup_logging(small_disk / "kit")
    handler = next(h for h in root.handlers if isinstance(h, DroppingFileHandler))
    try:
        yield path, handler
    finally:
        for added in set(root.handlers) - set(handlers):
            root.removeHandler(added)
            added.close()
        root.setLevel(level)


def test_logging_to_a_full_disk_drops_lines_counts_them_and_says_so_later(
    small_disk: Path,
    kit_log: tuple[Path, DroppingFileHandler],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before issue 25 each line the full disk refused printed a "Logging error" traceback
    (32,000 lines in 5 s from a kit that logs each tick)."""
    path, handler = kit_log
    log = logging.getLogger("jemput.tick")
    log.info("before the disk filled")
    filler = fill(small_disk)
    for tick in range(2000):
        log.info("tick %d", tick)
    assert "Logging error" not in capsys.readouterr().err
    dropped = handler.dropped
    assert dropped > 1900, "what the disk refused was counted (a page's tail may still fit)"
    os.unlink(filler)
    log.info("after the technician freed space")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    notice = f"{dropped} log line(s) were dropped: the log could not be written "
    assert f"{notice}(No space left on device)" in lines[-2]
    assert lines[-1].endswith("after the technician freed space")
    assert handler.dropped == 0
