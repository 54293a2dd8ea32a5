"""A power cut at any moment of an update leaves a kit that starts one of its two versions.

`tests.crashfs.ForgetfulFS` stands for the card under ``/opt/jemput`` (the store's crash
model: unsynced data and folder changes a cut may lose, in part or torn).  The slots begin
with release 1.0.0 committed in slot a; each scenario runs the real `firmware.slots.Slots`
through an update's steps (install and arm, the starts ExecStartPre makes, commit,
rollback), the power is cut before every filesystem call in turn, every way the crash can
fall is replayed, and then the kit starts as systemd starts it:

* ExecStartPre runs from ``committed``: that link must lead to a whole slot;
* `Slots.prestart` must decide without an error, and ``current`` must then lead to a
  whole slot (its ``release.cbor`` and every file of it, byte for byte);
* that slot's version must be one the steps allow: once a step has returned, the next
  start runs what that step decided (an armed version, a commit, a rollback); during a
  step, what was decided before it or what it decides.

Three broken protocols (no file fsync, no folder fsync, a link switched by unlink and
symlink instead of a rename) show that the model catches what it is meant to catch.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware.slots import (
    COMMITTED_LINK,
    CURRENT_LINK,
    SLOTS_FOLDER,
    STATE_FILE,
    TRIAL_STARTS,
    Slots,
    SlotState,
)
from kitlink.messages import Slot
from kitlink.release import ReleaseError, Version, installed_release
from storage.files import write_atomic
from storage.keys import Authority
from tests.crashfs import TEARS, Crash, ForgetfulFS, NoFileSync, NoFolderSync, PowerCut
from tests.provisioning.releases import NOW, bundle, release_key

#: Where the model's card is mounted: nothing is written to the real disk there.
ROOT = Path("/opt/jemput")

Release = tuple[bytes, list[tuple[str, bytes]]]


@dataclass(frozen=True)
class Step:
    """One step of an update, and the versions a start may run once it has returned."""

    name: str
    run: Callable[[Slots], object]
    then: frozenset[str]


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Release]:
    """Releases 1.0.0, 2.0.0 and 3.0.0 as headers and slot files, built as the tool does."""
    tmp = tmp_path_factory.mktemp("releases")
    key = release_key(tmp, Authority.init(tmp / "authority", name="Dukcapil"))
    built = {}
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        made = bundle(tmp, key, version)
        built[version] = (
            made.release.header,
            [(entry.path, data) for entry, data in made.contents()],
        )
    return built


def install(slot: Slot, release: Release) -> Callable[[Slots], None]:
    """Install and arm, as `firmware.update.Updates.install` does once its checks passed."""
    header, files = release

    def run(slots: Slots) -> None:
        slots.install(slot, header, files)
        slots.arm(slot, answered=(), floors=(installed_release(header).version, None))

    return run


def commit(version: str) -> Callable[[Slots], None]:
    return lambda slots: slots.commit(version=version, now=NOW)


def rollback(version: str) -> Callable[[Slots], None]:
    return lambda slots: slots.rollback(version=version, reason="self-test failed", now=NOW)


def prestart(slots: Slots) -> object:
    return slots.prestart(now=NOW)


def _seeded(kind: type[ForgetfulFS], first: Release) -> ForgetfulFS:
    """Release 1.0.0 committed in slot a, all of it durable (made before the update, by a
    sound protocol, whichever ``kind`` the update then runs on)."""
    fs = ForgetfulFS(ROOT)
    slots = Slots(ROOT, ops=fs)
    slots.install(Slot.A, *first)
    write_atomic(ROOT / STATE_FILE, SlotState(committed=Slot.A).to_bytes(), ops=fs)
    slots.prestart(now=NOW)
    assert not fs.pending, "the seed is durable"
    fs.calls = 0
    fs.__class__ = kind
    return fs


def _whole(fs: ForgetfulFS, link: str) -> tuple[str | None, list[str]]:
    """The version of the slot ``link`` leads to, and what keeps it from being whole."""
    target = fs.readlink(ROOT / link)
    slots = {f"{SLOTS_FOLDER}/{slot.value}": slot for slot in Slot}
    if target not in slots:
        return None, [f"{link} leads to {target!r}, no slot"]
    folder = Slots(ROOT, ops=fs).folder(slots[target])
    header = Slots(ROOT, ops=fs).release_header(slots[target])
    if header is None:
        return None, [f"{link}: {target} holds no release.cbor"]
    try:
        release = installed_release(header)
    except ReleaseError as exc:
        return None, [f"{link}: {target}/release.cbor is torn ({exc})"]
    broken = [
        f"{link}: {target}/{entry.path} is missing or torn"
        for entry in release.files
        if not fs.exists(folder / entry.path)
        or hashlib.sha256(fs.read(folder / entry.path)).digest() != entry.sha256
    ]
    return str(release.version), broken


def _start(fs: ForgetfulFS, allowed: frozenset[str], slots_kind: type[Slots]) -> list[str]:
    """What keeps the kit from starting as it should after the crash (nothing: [])."""
    _, broken = _whole(fs, COMMITTED_LINK)
    if broken:
        return [f"ExecStartPre cannot run: {problem}" for problem in broken]
    try:
        slots_kind(ROOT, ops=fs).prestart(now=NOW)
    except Exception as exc:  # any failure of the start is what this test reports
        return [f"ExecStartPre failed: {exc!r}"]
    version, broken = _whole(fs, CURRENT_LINK)
    if broken:
        return broken
    if version not in allowed:
        return [f"the kit starts {version}, not {' or '.join(sorted(allowed))}"]
    return []


def _explore(
    steps: list[Step],
    first: Release,
    kind: type[ForgetfulFS] = ForgetfulFS,
    slots_kind: type[Slots] = Slots,
    *,
    enough: int | None = None,
) -> list[str]:
    """Every cut point of ``steps`` x every way the crash can fall: what went wrong (only
    the first ``enough`` problems found, if given)."""
    seed = _seeded(kind, first)
    counting = copy.deepcopy(seed)
    for step in steps:
        step.run(slots_kind(ROOT, ops=counting))
    found = []
    for cut_at in range(counting.calls + 1):
        fs = copy.deepcopy(seed)
        fs.cut_at = cut_at
        done = 0
        try:
            for step in steps:
                step.run(slots_kind(ROOT, ops=fs))
                done += 1
        except PowerCut:
            pass
        allowed = steps[done - 1].then if done else frozenset({"1.0.0"})
        if done < len(steps):
            allowed |= steps[done].then
        during = steps[done].name if done < len(steps) else "the end"
        for dir_changes, tear in itertools.product(range(len(fs.pending) + 1), TEARS):
            crashed = copy.deepcopy(fs)
            crashed.crash(Crash(dir_changes, tear))
            found += [
                f"cut before call {cut_at} ({during}), {dir_changes} folder change(s) kept, "
                f"{tear:.0%} of unsynced data kept: {problem}"
                for problem in _start(crashed, allowed, slots_kind)
            ]
            if enough is not None and len(found) >= enough:
                return found
    return found


def committed_then_rolled_back(releases: dict[str, Release]) -> list[Step]:
    """2.0.0 into slot b, started and committed; 3.0.0 into slot a (emptying 1.0.0),
    started, failing its self-test."""
    two, three = frozenset({"2.0.0"}), frozenset({"3.0.0"})
    return [
        Step("install 2.0.0", install(Slot.B, releases["2.0.0"]), two),
        Step("start on trial", prestart, two),
        Step("commit", commit("2.0.0"), two),
        Step("install 3.0.0", install(Slot.A, releases["3.0.0"]), three),
        Step("start on trial", prestart, three),
        Step("roll back", rollback("3.0.0"), two),
    ]


def never_ready(releases: dict[str, Release]) -> list[Step]:
    """2.0.0 into slot b, started and never ready: the start after the last is a rollback."""
    two, one = frozenset({"2.0.0"}), frozenset({"1.0.0"})
    starts = [Step(f"start {n} on trial", prestart, two) for n in range(1, TRIAL_STARTS)]
    return [
        Step("install 2.0.0", install(Slot.B, releases["2.0.0"]), two),
        *starts,
        Step(f"start {TRIAL_STARTS}, the last on trial", prestart, one),
        Step("roll back at the start after", prestart, one),
    ]


@pytest.mark.parametrize("scenario", [committed_then_rolled_back, never_ready])
def test_a_power_cut_at_every_step_of_an_update_leaves_a_kit_that_starts(
    releases: dict[str, Release], scenario: Callable[[dict[str, Release]], list[Step]]
) -> None:
    assert _explore(scenario(releases), releases["1.0.0"]) == []


class UnlinkThenLink(Slots):
    """A broken protocol: a link is switched by removing it and making it anew."""

    def _point(self, name: str, slot: Slot) -> None:
        link = self.root / name
        if self.ops.readlink(link) is not None:
            self.ops.unlink(link)
            self.ops.fsync_dir(self.root)
        self.ops.symlink(f"{SLOTS_FOLDER}/{slot.value}", link)
        self.ops.fsync_dir(self.root)


@pytest.mark.parametrize(
    ("kind", "slots_kind"),
    [(NoFileSync, Slots), (NoFolderSync, Slots), (ForgetfulFS, UnlinkThenLink)],
)
def test_the_model_catches_an_update_that_skips_a_sync_or_switches_a_link_in_two(
    releases: dict[str, Release], kind: type[ForgetfulFS], slots_kind: type[Slots]
) -> None:
    steps = committed_then_rolled_back(releases)
    found = _explore(steps, releases["1.0.0"], kind, slots_kind, enough=1)
    assert found, "a broken protocol went unnoticed"


def test_versions_compare_part_by_part() -> None:
    assert Version.parse("1.10.0") > Version.parse("1.9.3") > Version.parse("1.9.0")
