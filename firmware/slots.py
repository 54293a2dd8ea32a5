"""The kit's two software slots on the Pi, and the state that says which one runs.

Why two slots: an update is written into the slot that is not running, so a power cut
while it is written leaves the running version untouched, and a version that turns out
broken can be left for the one that worked (RAUC's and Mender's A/B model; docs/updates.md).
Why files and links rather than partitions: the kit's software is a Python tree on the
SD card's one filesystem, so a slot is a folder, and "which one boots" is a symbolic link
that a rename switches atomically.  The layout under the root (``/opt/jemput`` on a kit,
a temporary folder in the tests)::

    slots/a/, slots/b/   one installation each: lib/ (on the kit's Python path), pico/
                         (the Pico's firmware the release carries), release.cbor (the
                         bundle's signed header), written last
    current   -> slots/X what systemd starts (ExecStart's PYTHONPATH)
    committed -> slots/Y the last version that reached ready; ExecStartPre runs from it
    slots.state          the truth: CBOR, replaced whole by `storage.files.write_atomic`

The state file decides; the links follow it.  Every write is the write protocol's, through
a `storage.files.FileOps`, so tests cut the power before every call of an install, a
start, a commit and a rollback and check that the kit still starts one of its versions
(tests/firmware/test_update_crash.py).

The sequence, as a bootloader's boot counter (RAUC's ``BOOT_x_LEFT``):

1. install: the inactive slot is emptied (its ``release.cbor`` first) and written, its
   ``release.cbor`` last; then the state is *armed*: ``trying`` that slot, ``starts_left``.
2. every start (`prestart`, run by systemd before the kit, from the committed slot): a
   slot on trial with starts left loses one and is started; one with none left is rolled
   back, and the links are made to match the state.
3. the version on trial reaches ready and passes its self-test: `commit`.  It fails the
   self-test: `rollback`, and the kit restarts into the committed slot.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from kitlink.messages import Slot, UpdateOutcome
from kitlink.protocol import Fields, MessageError, seconds
from kitlink.release import ReleaseError, Version, installed_release
from storage.codec import Tampered, dumps, loads
from storage.errors import WriteError
from storage.files import OS_OPS, FileOps, write_atomic

log = logging.getLogger(__name__)

SLOTS_FOLDER = "slots"
STATE_FILE = "slots.state"
CURRENT_LINK = "current"
COMMITTED_LINK = "committed"
#: In a slot: the bundle's header (certificate and signed manifest), written last.
RELEASE_FILE = "release.cbor"
#: In a slot: the Pico's firmware modules the release carries.
PICO_FOLDER = "pico"
#: Starts a version on trial gets to reach ready and pass its self-test (each bounded by
#: the unit's TimeoutStartSec and the self-test's deadline) before it is rolled back.
TRIAL_STARTS = 3
STATE_VERSION = 1
_LINK_SUFFIX = ".new"


@dataclass(frozen=True)
class LastUpdate:
    """The last update's end: committed (``reason`` a note, or ""), or rolled back and why."""

    outcome: UpdateOutcome
    version: str
    at: datetime
    reason: str


class SlotsError(WriteError):
    """The slots cannot do what was asked (an update already on trial, a damaged state)."""


@dataclass(frozen=True)
class SlotState:
    """What ``slots.state`` holds."""

    committed: Slot
    trying: Slot | None = None
    starts_left: int = 0
    #: The lowest versions the authority allows (never lowered): software and the Pico's.
    floor: Version | None = None
    pico_floor: Version | None = None
    #: The devices that answered their probe under the committed version when the update
    #: was armed: the version on trial must still reach them (its self-test).
    answered: tuple[str, ...] = ()
    last: LastUpdate | None = None

    @property
    def running(self) -> Slot:
        """The slot the kit starts: the one on trial, else the committed one."""
        return self.trying or self.committed

    def to_bytes(self) -> bytes:
        last = self.last
        return dumps(
            {
                "v": STATE_VERSION,
                "committed": self.committed.value,
                "trying": self.trying.value if self.trying else None,
                "starts_left": self.starts_left,
                "floor": str(self.floor) if self.floor else None,
                "pico_floor": str(self.pico_floor) if self.pico_floor else None,
                "answered": list(self.answered),
                "last": None
                if last is None
                else {
                    "outcome": last.outcome.value,
                    "version": last.version,
                    "at": seconds(last.at),
                    "reason": last.reason,
                },
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SlotState:
        with Fields(loads(data), "the slots' state") as fields:
            fields.whole("v", low=STATE_VERSION, high=STATE_VERSION)
            answered = fields.items("answered", most=100)
            if not all(isinstance(name, str) for name in answered):
                fields.fail("field 'answered' must list device names")
            return cls(
                committed=fields.converted("committed", Slot, ValueError),
                trying=fields.maybe(
                    "trying", lambda name: fields.converted(name, Slot, ValueError)
                ),
                starts_left=fields.whole("starts_left", low=0, high=TRIAL_STARTS),
                floor=fields.maybe("floor", lambda name: fields.converted(name, Version.parse)),
                pico_floor=fields.maybe(
                    "pico_floor", lambda name: fields.converted(name, Version.parse)
                ),
                answered=tuple(answered),
                last=fields.maybe("last", lambda name: fields.converted(name, _last)),
            )


def _last(value: object) -> LastUpdate:
    with Fields(value, "the last update") as fields:
        return LastUpdate(
            fields.converted("outcome", UpdateOutcome, ValueError),
            fields.text("version", most=100),
            fields.moment("at"),
            fields.text("reason", most=1000, least=0),
        )


class Slots:
    """The slots under ``root``, every change through ``ops`` (the crash model in tests)."""

    def __init__(self, root: Path, *, ops: FileOps = OS_OPS) -> None:
        self.root = Path(root)
        self.ops = ops

    def __repr__(self) -> str:
        return f"<Slots {self.root}>"

    def folder(self, slot: Slot) -> Path:
        return self.root / SLOTS_FOLDER / slot.value

    # -- reading ----------------------------------------------------------------------------

    def state(self) -> SlotState | None:
        """The state, or None where the kit was never installed in slots.

        A kit installed by hand (docs/updates.md) has its links but no state file yet: its
        committed slot is the one ``committed`` (or ``current``) points to.
        """
        path = self.root / STATE_FILE
        if self.ops.exists(path):
            try:
                return SlotState.from_bytes(self.ops.read(path))
            except (MessageError, Tampered) as exc:
                raise SlotsError(
                    f"{path} is damaged ({exc}): the kit starts {CURRENT_LINK} as it is; "
                    "reinstall the kit's software (docs/updates.md)"
                ) from exc
        for link in (COMMITTED_LINK, CURRENT_LINK):
            slot = self._linked(link)
            if slot is not None:
                return SlotState(committed=slot)
        return None

    def release_header(self, slot: Slot) -> bytes | None:
        """The header of the bundle installed in ``slot``; None for a slot installed by hand."""
        path = self.folder(slot) / RELEASE_FILE
        return self.ops.read(path) if self.ops.exists(path) else None

    def version(self, slot: Slot) -> str | None:
        """The version installed in ``slot`` (its release's); None for a hand install, whose
        version is the installed package's (`firmware.update.package_version`)."""
        header = self.release_header(slot)
        if header is None:
            return None
        try:
            return str(installed_release(header).version)
        except ReleaseError as exc:
            return f"unreadable ({exc})"

    def _linked(self, name: str) -> Slot | None:
        target = self.ops.readlink(self.root / name)
        for slot in Slot:
            if target == f"{SLOTS_FOLDER}/{slot.value}":
                return slot
        return None

    # -- installing -------------------------------------------------------------------------

    def install(self, slot: Slot, header: bytes, files: Iterable[tuple[str, bytes]]) -> None:
        """Empty ``slot`` and write ``files`` (path in the slot, bytes) into it, the
        release's ``header`` last, so a slot is whole once its ``release.cbor`` is there."""
        folder = self.folder(slot)
        self._make(folder.parent)
        self._empty(folder)
        for path, data in files:
            target = folder / path
            self._make(target.parent)
            write_atomic(target, data, ops=self.ops)
        write_atomic(folder / RELEASE_FILE, header, ops=self.ops)

    def _make(self, folder: Path) -> None:
        """``folder`` and its parents up to the root, each made durable in its parent."""
        if folder == self.root or self.ops.is_dir(folder):
            return
        self._make(folder.parent)
        self.ops.mkdir(folder)
        self.ops.fsync_dir(folder.parent)

    def _empty(self, folder: Path) -> None:
        """Remove everything in ``folder`` (itself kept), its ``release.cbor`` first."""
        if not self.ops.is_dir(folder):
            return
        marker = folder / RELEASE_FILE
        if self.ops.exists(marker):
            self.ops.unlink(marker)
            self.ops.fsync_dir(folder)
        for name in sorted(self.ops.listdir(folder)):
            path = folder / name
            if self.ops.is_dir(path):
                self._empty(path)
                self.ops.rmdir(path)
            else:
                self.ops.unlink(path)
        self.ops.fsync_dir(folder)

    def arm(
        self,
        slot: Slot,
        *,
        answered: tuple[str, ...],
        floors: tuple[Version | None, Version | None],
    ) -> None:
        """Start ``slot`` at the next start, on trial; ``floors`` are the minimum versions
        now in force (software, Pico)."""
        state = self.state()
        if state is None:
            raise SlotsError(f"{self.root} holds no installed kit: install it first")
        self._write(
            replace(
                state,
                trying=slot,
                starts_left=TRIAL_STARTS,
                floor=floors[0],
                pico_floor=floors[1],
                answered=answered,
            )
        )

    # -- starting, committing, rolling back ---------------------------------------------------

    def prestart(self, *, now: datetime) -> Slot | None:
        """Decide what this start runs (systemd's ExecStartPre): the slot, or None outside slots.

        A slot on trial with starts left loses one; with none left it is rolled back,
        named as not having reached ready in its starts.  The links are then made to
        match the state.
        """
        state = self.state()
        if state is None:
            return None
        trying = state.trying
        if trying is not None:
            if state.starts_left > 0:
                state = replace(state, starts_left=state.starts_left - 1)
            else:
                state = _rolled_back(
                    state,
                    self.version(trying) or "?",
                    f"it did not reach ready and pass its self-test in {TRIAL_STARTS} starts",
                    now,
                )
            self._write(state)
        self._follow(state)
        return state.running

    def commit(self, *, version: str, now: datetime, note: str = "") -> None:
        """The version on trial reached ready and passed its self-test: it stays.  ``note``
        says what its self-test could not check (a Pico that did not answer)."""
        state = self._on_trial()
        assert state.trying is not None
        self._write(
            replace(
                state,
                committed=state.trying,
                trying=None,
                starts_left=0,
                last=LastUpdate(UpdateOutcome.COMMITTED, version, now, note),
            )
        )
        self._follow(self._on_record())

    def rollback(self, *, version: str, reason: str, now: datetime) -> None:
        """The version on trial failed: the committed one starts again, next start."""
        self._write(_rolled_back(self._on_trial(), version, reason, now))
        self._follow(self._on_record())

    def _on_trial(self) -> SlotState:
        state = self.state()
        if state is None or state.trying is None:
            raise SlotsError("no version is on trial: nothing to commit or roll back")
        return state

    def _on_record(self) -> SlotState:
        state = self.state()
        assert state is not None, "just written"
        return state

    def _write(self, state: SlotState) -> None:
        write_atomic(self.root / STATE_FILE, state.to_bytes(), replace=True, ops=self.ops)

    def _follow(self, state: SlotState) -> None:
        """Point the links where the state says (each switched by one rename)."""
        self._point(COMMITTED_LINK, state.committed)
        self._point(CURRENT_LINK, state.running)

    def _point(self, name: str, slot: Slot) -> None:
        link = self.root / name
        target = f"{SLOTS_FOLDER}/{slot.value}"
        if self.ops.readlink(link) == target:
            return
        temporary = link.with_name(name + _LINK_SUFFIX)
        if self.ops.readlink(temporary) is not None:
            self.ops.unlink(temporary)
        self.ops.symlink(target, temporary)
        self.ops.rename(temporary, link)
        self.ops.fsync_dir(self.root)
        log.info("%s now points to %s", name, target)


def _rolled_back(state: SlotState, version: str, reason: str, now: datetime) -> SlotState:
    return replace(
        state,
        trying=None,
        starts_left=0,
        last=LastUpdate(UpdateOutcome.ROLLED_BACK, version, now, reason),
    )
