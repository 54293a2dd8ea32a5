"""Signed software updates on the kit: receive a bundle, install it, commit or roll back.

Why here and not in the port: the port checks who asks (the authority's signature) and
hands the bundle over; what an update *is* (which slot, which version may come, when a
version has proven itself) is the kit's business and runs the same behind any port.

The life of an update (docs/updates.md has the state machine and the Pi's layout):

1. ``update-part`` requests stage the bundle in ``incoming.bundle`` beside the slots;
2. ``update`` checks it whole: its digest, the release certificate (the authority's), the
   manifest's signature (the certified release key), the version against the minimum the
   authority set (signed in the request, and never lowered since), and every file's hash.
   A bundle that fails any check is refused, named, deleted, and changes nothing else;
3. at a safe point of the capture loop (never during an enrolment) the devices that
   answer now are noted, the release is written into the inactive slot and armed, and
   the kit restarts;
4. systemd's ExecStartPre (`firmware.slots.Slots.prestart`, from the committed slot)
   starts the slot on trial, counting its starts;
5. once the new version says READY, its self-test (:meth:`Updates.kit_ready`): the
   devices that answered before answer again, and the Pico runs the firmware the
   release carries (installed through its maintenance mode, then confirmed).  Passed:
   commit.  Failed: roll back and restart into the committed version.  A version that
   never gets that far is rolled back by ExecStartPre after `slots.TRIAL_STARTS` starts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from firmware.kit import Kit
from firmware.observer import KitObserver
from firmware.slots import PICO_FOLDER, Slots, SlotsError, SlotState
from hal.contracts import Devices
from hal.coprocessor import PowerCoprocessor
from hal.exc import DeviceError
from kitlink import messages as m
from kitlink.messages import Slot
from kitlink.release import (
    Bundle,
    Release,
    ReleaseError,
    Version,
    installed_release,
    open_bundle,
)
from storage.audit import AuditKind
from storage.keys import AuthorityPublic

log = logging.getLogger(__name__)

#: The bundle being received, beside the slots (the same card, so it can be checked whole).
STAGING_FILE = "incoming.bundle"
#: Space the card keeps free whatever a bundle needs: the records come first.
RESERVE_BYTES = 256 * 1024 * 1024
#: How long the Pico has to come back from a firmware switch and answer with its version.
PICO_RESTART_SECONDS = 30.0
#: The package whose version a kit outside slots (the simulator, a developer's) reports.
PACKAGE = "jemput"
_OUTSIDE_SLOTS = (
    "{root} holds no kit installed in slots, so this kit cannot be updated over the port: "
    "install it as docs/updates.md says"
)


class UpdateRefused(Exception):
    """An update the kit will not install; the message says why and what to do."""


class UpdateBusy(UpdateRefused):
    """An update the kit cannot take now (another version is on trial)."""


class SelftestFailed(Exception):
    """The version on trial failed its self-test; the message is the rollback's reason."""


def package_version() -> str:
    """The installed package's version: what a kit outside slots runs."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class _Staging:
    """The transfer under way: its id, and the bytes received so far."""

    transfer: bytes
    received: int = 0


def outside_slots(pico_version: str | None = None) -> m.SoftwareStatus:
    """What a kit that runs outside slots (the simulator, a developer's) reports."""
    return m.SoftwareStatus(
        version=package_version(),
        slot=None,
        on_trial=False,
        pico_version=pico_version,
        minimum=None,
        last_update=None,
    )


class Updates(KitObserver):
    """The kit's updates on ``slots`` (the Pi: ``/opt/jemput``, docs/updates.md).

    ``devices`` are the kit's (their probes are the self-test's first half);
    ``coprocessor`` the power Pico (or why there is none); ``restart`` ends the program so
    that systemd starts it again (the Pi: the run's stop event); ``now`` the kit's clock.
    As a `KitObserver` it hears of each kit opened (for the audit log) and of READY.
    """

    def __init__(
        self,
        slots: Slots,
        *,
        devices: Devices,
        coprocessor: PowerCoprocessor | DeviceError | None,
        restart: Callable[[], None],
        now: Callable[[], datetime],
        free_bytes: Callable[[Path], int] = lambda path: shutil.disk_usage(path).free,
    ) -> None:
        self.slots = slots
        self.devices = devices
        self.coprocessor = coprocessor
        self._restart = restart
        self._now = now
        self._free_bytes = free_bytes
        self._staging: _Staging | None = None
        self._kit: Kit | None = None
        self._checked = False

    def __repr__(self) -> str:
        return f"<Updates {self.slots!r}>"

    # -- what status reports ---------------------------------------------------------------

    def software(self) -> m.SoftwareStatus:
        """The versions this kit runs, its slot, and how the last update ended."""
        pico = self.coprocessor
        pico_version = pico.info.version_text if isinstance(pico, PowerCoprocessor) else None
        state = self._state()
        if state is None:
            return outside_slots(pico_version)
        last = state.last
        return m.SoftwareStatus(
            version=self.slots.version(state.running) or package_version(),
            slot=state.running,
            on_trial=state.trying is not None,
            pico_version=pico_version,
            minimum=state.floor,
            last_update=None
            if last is None
            else m.UpdateReport(last.outcome, last.version, last.at, last.reason),
        )

    def _state(self) -> SlotState | None:
        try:
            return self.slots.state()
        except SlotsError as exc:
            log.error("%s", exc)
            return None

    # -- receiving -------------------------------------------------------------------------

    @property
    def _staged(self) -> Path:
        return self.slots.root / STAGING_FILE

    def receive(self, part: m.UpdatePartArgs) -> m.UpdatePartResult:
        """Stage one part of a bundle; a new transfer id starts over.

        Parts come in order; a part sent again after a lost answer (ending where the
        staged bytes end) is taken as received.
        """
        if self._state() is None:
            raise UpdateRefused(_OUTSIDE_SLOTS.format(root=self.slots.root))
        staged = self._staged
        if self._staging is None or self._staging.transfer != part.transfer:
            staged.unlink(missing_ok=True)
            self._staging = _Staging(part.transfer)
        staging = self._staging
        end = part.offset + len(part.data)
        if end == staging.received and part.offset < staging.received:
            return m.UpdatePartResult(staging.received)
        if part.offset != staging.received:
            raise UpdateRefused(
                f"part at byte {part.offset}, but {staging.received} bytes have arrived: "
                "send the update again"
            )
        if self._free_bytes(staged.parent) - len(part.data) < RESERVE_BYTES:
            raise UpdateRefused(
                f"the kit's card would keep less than {RESERVE_BYTES // 2**20} MiB free with "
                "this bundle: collect the records (their files are then pruned) and try again"
            )
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, part.data)
        finally:
            os.close(descriptor)
        staging.received = end
        return m.UpdatePartResult(end)

    def check(self, args: m.UpdateArgs, authority: AuthorityPublic) -> Bundle:
        """The staged bundle, once every check passed; UpdateRefused naming the first that
        failed (the staged bundle is then deleted: nothing else changed)."""
        try:
            return self._checked_bundle(args, authority)
        except UpdateRefused:
            self.discard()
            raise
        except ReleaseError as exc:
            self.discard()
            raise UpdateRefused(str(exc)) from exc

    def _checked_bundle(self, args: m.UpdateArgs, authority: AuthorityPublic) -> Bundle:
        staging = self._staging
        if staging is None or staging.transfer != args.transfer or staging.received != args.size:
            received = 0 if staging is None else staging.received
            raise UpdateRefused(
                f"the bundle did not arrive whole ({received} of {args.size} bytes): send the "
                "update again"
            )
        if _sha256(self._staged) != args.sha256:
            raise UpdateRefused(
                "the bundle changed on the way (its SHA-256 differs): send it again"
            )
        state = self._state()
        if state is None:
            raise UpdateRefused(_OUTSIDE_SLOTS.format(root=self.slots.root))
        if state.trying is not None:
            raise UpdateBusy(
                f"version {self.slots.version(state.trying)} is on trial: the kit commits it "
                "once it has passed its self-test, or rolls it back; update after that"
            )
        bundle = open_bundle(self._staged, authority, at=self._now())
        release = bundle.release
        _at_least(release.version, _highest(state.floor, args.minimum), "the kit's software")
        if release.pico is not None:
            floor = _highest(state.pico_floor, args.pico_minimum)
            _at_least(release.pico.version, floor, "the Pico's firmware")
        bundle.check()
        return bundle

    def discard(self) -> None:
        """Forget the transfer and delete what was staged."""
        self._staging = None
        self._staged.unlink(missing_ok=True)

    # -- installing ------------------------------------------------------------------------

    def install(self, bundle: Bundle, args: m.UpdateArgs) -> m.UpdateResult:
        """Write ``bundle`` into the inactive slot and arm it (call at a safe point: the
        kit closed), then ask for the restart that starts it."""
        slots = self.slots
        state = self._state()
        assert state is not None and state.trying is None, "checked by check()"
        release = bundle.release
        target = state.committed.other
        answered = self._answering()
        slots.install(target, release.header, _slot_files(bundle))
        floors = (
            _highest(state.floor, args.minimum),
            _highest(state.pico_floor, args.pico_minimum),
        )
        slots.arm(target, answered=answered, floors=floors)
        self.discard()
        log.info("installed %s into slot %s; restarting into it", release.version, target)
        self._restart()
        return m.UpdateResult(
            version=str(release.version),
            slot=target,
            pico_version=str(release.pico.version) if release.pico else None,
            restarting=True,
        )

    def _answering(self) -> tuple[str, ...]:
        """The devices that answer their probe now, by their place in `Devices`."""
        answering = []
        for name, device in self.devices.named():
            try:
                device.probe()
            except DeviceError:
                continue
            answering.append(name)
        return tuple(answering)

    # -- the version on trial ----------------------------------------------------------------

    def kit_opened(self, kit: Kit) -> None:
        self._kit = kit

    def kit_ready(self) -> None:
        """READY was said: a version on trial takes its self-test now, once, and is
        committed, or rolled back and restarted from."""
        state = self._state()
        if self._checked or state is None or state.trying is None:
            return
        self._checked = True
        slots = self.slots
        version = slots.version(state.trying) or package_version()
        try:
            note = self._selftest(state)
        except SelftestFailed as exc:
            log.error("version %s failed its self-test: %s; rolling back", version, exc)
            slots.rollback(version=version, reason=f"self-test failed: {exc}", now=self._now())
            self._audit(AuditKind.UPDATE_ROLLED_BACK, version=version, reason=str(exc))
            self._restart()
            return
        slots.commit(version=version, now=self._now(), note=note)
        log.info("version %s committed%s", version, f" ({note})" if note else "")
        self._audit(AuditKind.UPDATE_COMMITTED, version=version, note=note)

    def _selftest(self, state: SlotState) -> str:
        """Raise SelftestFailed unless this version reaches what the last one reached; a
        note for the record (what was not checked), or ""."""
        answering = set(self._answering())
        lost = [name for name in state.answered if name not in answering]
        if lost:
            raise SelftestFailed(
                f"{', '.join(lost)} answered the version before and do not answer this one"
            )
        assert state.trying is not None
        return self._pico(state.trying)

    def _pico(self, slot: Slot) -> str:
        """Bring the Pico to the firmware the release carries (the same version rule held at
        install); a note when there is no Pico to bring."""
        header = self.slots.release_header(slot)
        release = installed_release(header) if header is not None else None
        if release is None or release.pico is None:
            return ""
        pico = self.coprocessor
        if not isinstance(pico, PowerCoprocessor):
            why = pico or "no co-processor is configured"
            return f"the Pico's firmware {release.pico.version} was not installed: {why}"
        wanted = str(release.pico.version)
        try:
            if pico.info.version_text != wanted:
                pico.install_firmware(self._pico_files(slot, release))
                pico.await_restart(timeout=PICO_RESTART_SECONDS)
            if pico.info.version_text != wanted:
                raise SelftestFailed(
                    f"the Pico runs firmware {pico.info.version_text} after installing "
                    f"{wanted}: its boot stub went back to the other slot"
                )
            pico.confirm()
        except DeviceError as exc:
            raise SelftestFailed(f"the Pico's firmware {wanted}: {exc}") from exc
        return ""

    def _pico_files(self, slot: Slot, release: Release) -> list[tuple[str, bytes]]:
        assert release.pico is not None
        folder = self.slots.folder(slot) / PICO_FOLDER
        return [
            (entry.path, self.slots.ops.read(folder / entry.path)) for entry in release.pico.files
        ]

    def _audit(self, kind: AuditKind, **detail: object) -> None:
        kit = self._kit
        if kit is not None:
            kit.store.audit.append(kind, **detail)


def _slot_files(bundle: Bundle) -> Iterator[tuple[str, bytes]]:
    """Each file of ``bundle`` with its path in the slot (software as named, Pico modules in
    the slot's ``pico/``), read one at a time."""
    pico = set(bundle.release.pico.files if bundle.release.pico else ())
    for entry, data in bundle.contents():
        yield (f"{PICO_FOLDER}/{entry.path}" if entry in pico else entry.path), data


def _highest(floor: Version | None, minimum: Version | None) -> Version | None:
    present = [version for version in (floor, minimum) if version is not None]
    return max(present) if present else None


def _at_least(version: Version, floor: Version | None, what: str) -> None:
    if floor is not None and version < floor:
        raise UpdateRefused(
            f"the bundle's version of {what}, {version}, is below the minimum {floor} the "
            "authority set: build a newer release"
        )


def _sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.digest()
