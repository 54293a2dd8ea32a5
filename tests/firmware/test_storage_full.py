"""A disk that fills during a capture: the "storage full" screen, nothing lost, then resume.

The kit's data folder is on a tmpfs of its own (mounted here: the tests run as root, as
CI does), so the full disk is a real ENOSPC that SQLite reports as "database or disk is
full".  The kit is driven through its real capture loop by the demo's officer bot.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from capture.controller import StorageFullNotice
from capture.machine import CaptureState
from capture.prompts import Language, prompt
from hal.types import Button
from hw_sim.world import Person
from simulator.demo import OfficerBot
from simulator.kit import SimKit, open_sim_kit

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
    return bot, person


def test_a_disk_full_mid_capture_holds_the_enrolment_until_space_is_freed(
    small_disk: Path,
) -> None:
    with open_sim_kit(small_disk / "kit", seed=1, clock_speed=0.0) as sim:
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
        assert ctl.shown_overlay is None and ctl.state is held and not ctl.session.journal_unsaved
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
    with open_sim_kit(small_disk / "kit", seed=1, clock_speed=0.0) as sim:
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
