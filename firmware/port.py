"""The kit's end of the provisioning port: answers the technician's tool.

Why here and not in `storage`: the port decides who may do what (every request but hello
signed by the authority, with the current nonce), and turns requests into calls on the
running kit's host (`firmware.host.KitHost`) and its store through their public APIs
only.  The wire format is `kitlink.protocol`'s.

A kit that was never flashed has no authority to check signatures against: it trusts the
authority that signs its first ``keygen`` and ``flash`` (trust on first use; a factory
image may carry the authority's public key instead).  From then on only that authority is
obeyed.  Reflashing or purging a kit that holds records no receipt covers is refused: the
records are the truth, and only a collector's receipt lets them go.  A reflash moves the
old data folder's contents into ``retired/<time>/`` (`storage.layout.retire`) rather than
deleting them.  ``keygen``, ``flash``, ``purge`` and an ``update``'s install run while the
host holds the capture loop at a safe point; an enrolment in progress refuses them with a
``busy`` answer.  What an update is (slots, versions, the commit) is `firmware.update`'s.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, assert_never

import serial
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from firmware.host import KitBusy
from firmware.update import UpdateBusy, UpdateRefused, Updates, outside_slots
from firmware.worklist_transfer import WorklistStaging
from hal.exc import DeviceError
from hal.types import BatteryReading
from kitlink import messages as m
from kitlink import protocol as p
from kitlink.framing import MAX_FRAME, FrameDecoder, encode_frame
from kitlink.protocol import Op, Refusal
from storage.audit import AuditKind
from storage.certificate import CertificateError, verify_certificate
from storage.errors import StorageError
from storage.files import record_files, record_name
from storage.handover import BadHandover, open_batch
from storage.keys import AuthorityPublic, KitSigner
from storage.kit import KitStore, install
from storage.kitkey import (
    KeySettings,
    backend_of,
    create_kit_key,
    move_kit_key,
    open_kit_key,
)
from storage.layout import (
    certificate_path,
    kit_dir,
    records_dir,
    retire,
    staged_key_path,
)
from storage.profile import Profile
from storage.provision import install_round, read_profile
from storage.receipt import ReceiptError
from storage.rounds import RoundError, check_officers, loaded_round
from storage.signed_profile import ProfileChanged, changes

log = logging.getLogger(__name__)

T = TypeVar("T")
#: What an op answers: one of `kitlink.messages`' results.
Result = (
    m.KeygenResult
    | m.FlashResult
    | m.WorklistPartResult
    | m.WorklistCommitResult
    | m.RoundResult
    | m.SetTimeResult
    | m.StatusResult
    | m.SelftestResult
    | m.ListResult
    | m.GetResult
    | m.LedgerResult
    | m.ReceiptResult
    | m.PurgeResult
    | m.HandoverKeyResult
    | m.HandoverResult
    | m.UpdatePartResult
    | m.UpdateResult
)

#: Who the card ledger names for cards loaded at a flash.
PROVISIONING_OFFICER = "PROVISIONING"
#: Ops that a kit not yet flashed checks against the authority its keygen named.
STAGED_OPS = (Op.FLASH, Op.WORKLIST_PART, Op.WORKLIST_COMMIT)
#: How long one answer may take to leave on the Pi's gadget serial before it is dropped.
WRITE_TIMEOUT_SECONDS = 5.0


class KitHost(Protocol):
    """What the port needs from the program it runs in: `firmware.host.KitHost`."""

    data_dir: Path
    #: Where keygen makes the kit's key (kit.toml's ``[kit] key_backend``) and the TPM's TCTI.
    keys: KeySettings

    @property
    def store(self) -> KitStore | None:
        """The running kit's open store (live head), or None while it is not provisioned."""
        ...

    def now(self) -> datetime: ...

    def set_clock(self, when: datetime) -> None:
        """Set the kit's clock (the DS3231 on a kit)."""
        ...

    def battery(self) -> BatteryReading | None:
        """The fuel gauge's reading, or None when it does not answer."""
        ...

    def selftest(self) -> list[dict[str, Any]]:
        """Verdicts as maps: device, ok, detail, check."""
        ...

    def change(self, work: Callable[[], T], *, check: Callable[[], None] | None = None) -> T:
        """At a safe point: ``check``, stop the kit, ``work``, open it again; KitBusy if busy."""
        ...


def _battery(reading: BatteryReading | None) -> m.BatteryStatus | None:
    """A fuel gauge's reading in the whole units `status` carries, each held to its range
    on the wire: the kit never signs a figure the tool must refuse."""
    if reading is None:
        return None
    return m.BatteryStatus(
        percent=_within(reading.percent, 0, 100),
        millivolts=_within(reading.voltage * 1000, 0, m.BATTERY_MILLIVOLTS),
        rate=_within(reading.rate, -m.BATTERY_RATE, m.BATTERY_RATE),
    )


def _within(value: float, low: int, high: int) -> int:
    return max(low, min(round(value), high))


class KitPort:
    """Answers provisioning requests for the kit on ``host``, whose data is ``data_dir``.

    `handle` takes one request payload and returns the answer payload; `feed` does the
    same for raw bytes (frames in, frames out).  Thread-safe: one request at a time.
    ``updates`` installs releases into the Pi's slots (`firmware.update`).
    """

    def __init__(
        self,
        data_dir: Path,
        host: KitHost,
        *,
        rng: Callable[[int], bytes] = os.urandom,
        updates: Updates | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        #: The kit's software updates (the Pi's slots); None where the kit runs outside
        #: slots (the simulator): it refuses updates and reports its package's version.
        self.updates = updates
        self._rng = rng
        self._nonce = p.new_nonce(rng)
        self._staged_authority: AuthorityPublic | None = None
        self._kit_key: KitSigner | None = None  # read once per flash, not once per request
        self._decoder = FrameDecoder()
        self._worklist = WorklistStaging()
        #: The key the last handover-key made: in memory only, spent by one handover.
        self._handover_secret: X25519PrivateKey | None = None
        self._lock = threading.Lock()
        #: (op, "ok" or the refusal) of every request (None: an op that could not be read),
        #: for tests and logs.
        self.handled: list[tuple[Op | None, Refusal | Literal["ok"]]] = []

    # -- paths and facts -------------------------------------------------------------------

    @property
    def _records_dir(self) -> Path:
        return records_dir(self.data_dir)

    def _profile(self) -> Profile | None:
        store = self.host.store
        if store is not None:
            return store.profile
        return read_profile(self.data_dir)

    def _head(self) -> tuple[int, bytes | None]:
        """The running kit's head, live; (0, None) before a store is open."""
        store = self.host.store
        return store.head() if store is not None else (0, None)

    def _uncollected(self) -> int:
        store = self.host.store
        if store is not None:
            return store.status().uncollected
        # no store open: any record file left would be uncollected (a half-done flash)
        return sum(1 for _ in record_files(self._records_dir)) if self._records_dir.is_dir() else 0

    # -- the wire --------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Bytes of a frame under way that the port holds (0 once a cut-off frame is dropped)."""
        with self._lock:
            return self._decoder.pending

    def feed(self, data: bytes) -> bytes:
        """Bytes from the port in (none: time passes); the framed answers to every request
        now complete out.

        Fed also when nothing came, so a frame cut off mid-way is given up within the
        decoder's idle time, and a request that arrived behind it is answered then.
        """
        with self._lock:
            requests = self._decoder.feed(data)
        return b"".join(encode_frame(self.handle(request)) for request in requests)

    def handle(self, payload: bytes) -> bytes:
        """One request payload in, one answer payload out; never raises, whatever it reads.

        Every answer, a refusal too, carries the request's id when it could be read, so
        the tool can tell it from the answer to a request it gave up on.  Why a catch-all
        here: the port is a cable anyone may plug into, and a request the code did not
        foresee must cost its own answer, never the thread that serves the port.  What no
        handler names becomes a ``failed`` answer and a logged traceback.
        """
        with self._lock:
            try:
                request = p.parse_request(payload)
            except p.UnreadRequest as exc:
                self.handled.append((None, Refusal.BAD_REQUEST))
                return p.refusal(exc.request_id, Refusal.BAD_REQUEST, str(exc))
            except Exception as exc:  # any failure: see the docstring
                log.exception("provisioning request did not decode")
                self.handled.append((None, Refusal.FAILED))
                return p.refusal(
                    None, Refusal.FAILED, f"the kit could not read the request ({exc!r})"
                )
            try:
                answer = self._answer(request)
            except p.Refused as exc:
                log.warning("provisioning %s refused: %s", request.op, exc)
                return self._refuse(request, exc.code, str(exc))
            except Exception as exc:  # any failure: see the docstring
                log.exception("provisioning %s failed on the kit", request.op)
                return self._refuse(
                    request,
                    Refusal.FAILED,
                    f"{request.op} failed on the kit ({type(exc).__name__}); the kit goes on "
                    "serving: send the request again, and report it if it keeps failing",
                )
            if len(answer) > MAX_FRAME:
                return self._refuse(
                    request,
                    Refusal.FAILED,
                    f"{request.op}: the answer of {len(answer)} bytes exceeds the frame limit",
                )
            self.handled.append((request.op, "ok"))
            return answer

    def _refuse(self, request: p.Request, code: Refusal, message: str) -> bytes:
        self.handled.append((request.op, code))
        return p.refusal(request.request_id, code, message, next_nonce=self._nonce)

    def _answer(self, request: p.Request) -> bytes:
        if request.op is Op.HELLO:
            return p.hello_answer(request.request_id, self._hello().to_map())
        data = p.open_request(request, self._authority_for(request), nonce=self._nonce)
        nonce, self._nonce = self._nonce, p.new_nonce(self._rng)  # spent: no replay
        try:
            result, key = self._dispatch(m.read_args(request.op, data))
        except (KitBusy, UpdateBusy) as exc:
            raise p.Refused(Refusal.BUSY, str(exc)) from exc
        except UpdateRefused as exc:
            raise p.Refused(Refusal.BAD_REQUEST, f"{request.op}: {exc}") from exc
        except p.MessageError as exc:
            raise p.Refused(Refusal.BAD_REQUEST, f"{request.op}: {exc}") from exc
        except (StorageError, DeviceError, OSError) as exc:
            raise p.Refused(Refusal.FAILED, f"{request.op} failed on the kit: {exc}") from exc
        return p.signed_answer(
            request.request_id,
            request.op,
            result.to_map(),
            nonce=nonce,
            next_nonce=self._nonce,
            key=key,
        )

    def _authority_for(self, request: p.Request) -> AuthorityPublic:
        """Whose signature ``request`` must carry.

        The authority in the kit's profile, once it has one.  Before: a flash and its
        worklist the authority whose keygen staged the key they go with, and a keygen the
        authority it names itself (trust on first use).
        """
        trusted = self._trusted()
        if trusted is not None:
            return trusted
        if request.op in STAGED_OPS and self._staged_authority is not None:
            return self._staged_authority
        if request.op is Op.KEYGEN:
            try:
                return m.KeygenArgs.from_map(p.claimed_args(request)).authority
            except p.MessageError as exc:
                raise p.Refused(
                    Refusal.UNSIGNED, f"{request.op} names no authority to check: {exc}"
                ) from exc
        if request.op is Op.FLASH:
            raise p.Refused(Refusal.BAD_REQUEST, "flash must follow a keygen by the same authority")
        raise p.Refused(Refusal.NOT_PROVISIONED, f"this kit is not flashed yet: {request.op} waits")

    def _trusted(self) -> AuthorityPublic | None:
        """The authority of the kit's profile (the open store's, read once), if flashed."""
        store = self.host.store
        if store is not None:
            return store.authority
        profile = read_profile(self.data_dir)
        return None if profile is None else AuthorityPublic.from_cbor(profile.authority)

    def _hello(self) -> m.Hello:
        profile = self._profile()
        has_key = backend_of(kit_dir(self.data_dir)) is not None
        seq, digest = self._head()
        cert = certificate_path(self.data_dir)
        return m.Hello(
            provisioned=profile is not None,
            kit_id=profile.kit_id if profile else None,
            demo=profile.demo if profile else False,
            nonce=self._nonce,
            head_seq=seq,
            head_hash=digest,
            uncollected=self._uncollected(),
            public=self._key().public_bytes if profile and has_key else None,
            certificate=cert.read_bytes() if profile and cert.exists() else None,
        )

    # -- the ops ---------------------------------------------------------------------------

    def _dispatch(self, args: m.KitArgs) -> tuple[Result, KitSigner]:
        """The op's result and the key to sign it with; by op, each with its own arguments."""
        match args:
            case m.KeygenArgs():
                keygen = args
                return self.host.change(
                    lambda: self._keygen(keygen), check=lambda: self._refuse_uncollected("reflash")
                )
            case m.FlashArgs():
                return self._flash(args)
            case m.PurgeArgs():
                key = self._key()
                return self.host.change(
                    lambda: self._purge(key), check=lambda: self._refuse_uncollected("purge")
                )
            case m.WorklistPartArgs():
                return self._worklist.add_part(args), self._key_or_staged()
            case m.WorklistCommitArgs():
                return self._worklist.commit(args), self._key_or_staged()
            case m.RoundArgs():
                return self._round(args), self._key()
            case m.SetTimeArgs():
                return self._set_time(args), self._key()
            case m.StatusArgs():
                return self._status(), self._key()
            case m.SelftestArgs():
                return self._selftest(), self._key()
            case m.ListArgs():
                return self._list(args), self._key()
            case m.GetArgs():
                return self._get(args), self._key()
            case m.LedgerArgs():
                return self._ledger(), self._key()
            case m.ReceiptArgs():
                return self._receipt(args), self._key()
            case m.HandoverKeyArgs():
                return self._handover_key(), self._key()
            case m.HandoverArgs():
                return self._handover(args), self._key()
            case m.UpdatePartArgs():
                return self._updates().receive(args), self._key()
            case m.UpdateArgs():
                return self._update(args), self._key()
            case _:
                assert_never(args)

    def _key_or_staged(self) -> KitSigner:
        """The key keygen made for the flash under way (the tool trusts it now), else the kit's.

        Only a flash's worklist parts are answered with it: any other request after an
        abandoned keygen is still answered with the certified key the collector trusts.
        """
        staged = staged_key_path(self.data_dir)
        if self._staged_authority is not None and backend_of(staged) is not None:
            return open_kit_key(staged, tcti=self.host.keys.tcti)
        return self._key()

    def _key(self) -> KitSigner:
        """The kit's signing key, opened once (a collect asks for many chunks)."""
        if self._kit_key is None:
            self._kit_key = open_kit_key(kit_dir(self.data_dir), tcti=self.host.keys.tcti)
        return self._kit_key

    def _open_store(self) -> KitStore:
        store = self.host.store
        if store is None:
            raise p.Refused(Refusal.NOT_PROVISIONED, "the kit's store is not open")
        return store

    def _refuse_uncollected(self, what: str) -> None:
        count = self._uncollected()
        if count:
            raise p.Refused(
                Refusal.UNCOLLECTED,
                f"{what} refused: the kit holds {count} record(s) no collector has receipted; "
                "run `jemput-prov collect` first",
            )

    def _purge(self, key: KitSigner) -> tuple[m.PurgeResult, KitSigner]:
        self._retire()
        return m.PurgeResult(purged=True), key

    def _keygen(self, args: m.KeygenArgs) -> tuple[m.KeygenResult, KitSigner]:
        kit_dir(self.data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
        staged = staged_key_path(self.data_dir)
        shutil.rmtree(staged, ignore_errors=True)
        key = create_kit_key(staged, self.host.keys.backend, tcti=self.host.keys.tcti)
        self._staged_authority = args.authority
        return m.KeygenResult(key.public_bytes, key.alg, key.backend), key

    def _flash(self, args: m.FlashArgs) -> tuple[m.FlashResult, KitSigner]:
        """Check everything, then install the new kit at a safe point and boot it."""
        self._refuse_uncollected("reflash")
        staged = staged_key_path(self.data_dir)
        if backend_of(staged) is None or self._staged_authority != args.authority:
            raise p.Refused(Refusal.BAD_REQUEST, "flash must follow a keygen by the same authority")
        key = open_kit_key(staged, tcti=self.host.keys.tcti)
        try:
            certificate = verify_certificate(args.cert, args.authority, at=args.time)
        except CertificateError as exc:
            raise p.Refused(
                Refusal.BAD_REQUEST, f"flash: the kit certificate is refused: {exc}"
            ) from exc
        setup = args.setup(self._worklist.take(args.worklist_transfer))
        if certificate.kit_public != key.public_bytes or certificate.kit_id != setup.kit_id:
            raise p.Refused(
                Refusal.BAD_REQUEST, "flash: the certificate is not for this kit's new key"
            )
        if certificate.backend is not key.backend or certificate.alg is not key.alg:
            raise p.Refused(
                Refusal.BAD_REQUEST,
                f"flash: the certificate says the key is {certificate.backend.value} "
                f"({certificate.alg.name}), the kit's new key is {key.backend.value} "
                f"({key.alg.name}): certify what the keygen answered",
            )
        profile = dataclasses.replace(
            setup.profile(
                args.authority.to_cbor(),
                demo=args.authority.demo,
                reference_key=args.reference_key,
            ),
            signature=args.profile_signature,
        )
        try:
            changed = changes(profile)
        except ProfileChanged as exc:
            raise p.Refused(Refusal.BAD_REQUEST, f"flash: {exc}") from exc
        if changed:
            raise p.Refused(
                Refusal.BAD_REQUEST,
                f"flash: the authority's profile signature does not match the setup sent "
                f"({', '.join(changed)} differ): flash again",
            )

        def install_new_kit() -> None:
            self._retire()
            move_kit_key(staged, kit_dir(self.data_dir))
            self._kit_key = key
            install(
                self.data_dir,
                certificate=certificate.data,
                profile=profile,
                tcti=self.host.keys.tcti,
            )

        # checked again at the safe point: the kit may have sealed since the check above
        self.host.change(install_new_kit, check=lambda: self._refuse_uncollected("reflash"))
        self._staged_authority = None
        self.host.set_clock(args.time)
        store = self._open_store()
        if setup.cards:
            store.ledger.receive(setup.cards, officer_id=PROVISIONING_OFFICER)
        store.audit.append(
            AuditKind.PROVISIONED,
            kit=setup.kit_id,
            officers=len(setup.officers),
            worklist=len(setup.worklist),
            cards=setup.card_count,
            ranges=[held.text for held in setup.cards],
        )
        return m.FlashResult(setup.kit_id, self.host.now()), key

    def _round(self, args: m.RoundArgs) -> m.RoundResult:
        """Check the next round against the kit's authority, its officers and its people,
        then install it at a safe point and boot the kit again: what it seals from then on
        names the round, on the same chain.  Refused (``busy``) like a flash while an
        enrolment is in progress: its person may not be on the new list."""
        store = self._open_store()
        people = self._worklist.take(args.people_transfer)
        try:
            loaded = loaded_round(args.plan, people, store.authority, store.references)
            check_officers(loaded.plan, store.officers)
        except RoundError as exc:
            raise p.Refused(Refusal.BAD_REQUEST, f"round: {exc}") from exc
        self.host.change(lambda: install_round(self.data_dir, loaded, tcti=self.host.keys.tcti))
        self._open_store().audit.append(
            AuditKind.ROUND_LOADED,
            round=loaded.plan.code,
            venue=loaded.plan.venue.value,
            people=len(people),
        )
        return m.RoundResult(loaded.plan.code, len(people))

    def _retire(self) -> None:
        """Move the old kit's files into retired/<time>/ (nothing is deleted).

        Runs inside ``host.change``: the kit and its store are closed.
        """
        self._kit_key = None
        retire(self.data_dir, now=self.host.now())

    def _set_time(self, args: m.SetTimeArgs) -> m.SetTimeResult:
        before = self.host.now()
        self.host.set_clock(args.time)
        self._open_store().audit.append(AuditKind.SET_TIME, before=before.isoformat())
        return m.SetTimeResult(self.host.now())

    def _status(self) -> m.StatusResult:
        facts = self._open_store().status()
        broken = facts.audit_break
        return m.StatusResult(
            kit_id=facts.kit_id,
            demo=facts.demo,
            sealed=facts.sealed,
            uncollected=facts.uncollected,
            last_seq=facts.last_seq,
            cards=facts.cards,
            damaged=tuple(facts.damaged),
            audit_break=f"entry {broken.entry_id} {broken.reason}" if broken else None,
            journal_open=facts.journal_open,
            time=self.host.now(),
            software=self.updates.software() if self.updates else outside_slots(),
            battery=_battery(self.host.battery()),
        )

    def _updates(self) -> Updates:
        if self.updates is None:
            raise UpdateRefused(
                "this kit runs outside slots (a simulator or a developer's kit), so it cannot "
                "be updated over the port: update its checkout instead (docs/updates.md)"
            )
        return self.updates

    def _update(self, args: m.UpdateArgs) -> m.UpdateResult:
        """Check the staged bundle on this thread, then install it at a safe point; the
        kit restarts into it once this is answered."""
        updates = self._updates()
        bundle = updates.check(args, self._open_store().authority)
        try:
            result = self.host.change(lambda: updates.install(bundle, args))
        except BaseException:
            updates.discard()
            raise
        self._open_store().audit.append(
            AuditKind.UPDATE_INSTALLED, version=result.version, slot=result.slot.value
        )
        return result

    def _selftest(self) -> m.SelftestResult:
        return m.SelftestResult(
            tuple(
                m.Verdict(v["device"], v["ok"], v["detail"], v["check"])
                for v in self.host.selftest()
            )
        )

    def _list(self, args: m.ListArgs) -> m.ListResult:
        rows = [
            (seq, path.stat().st_size)
            for seq, path in record_files(self._records_dir)
            if args.first <= seq <= args.last
        ]
        return m.ListResult(tuple(rows[: m.LIST_MAX]))

    def _get(self, args: m.GetArgs) -> m.GetResult:
        path = self._records_dir / record_name(args.seq)
        if not path.is_file():
            raise p.Refused(Refusal.BAD_REQUEST, f"record {args.seq} is not on this kit")
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if args.offset > size:
                raise p.Refused(
                    Refusal.BAD_REQUEST, f"offset {args.offset} is past record {args.seq}'s end"
                )
            file.seek(args.offset)
            data = file.read(args.length)
        return m.GetResult(args.seq, args.offset, size, data)

    def _ledger(self) -> m.LedgerResult:
        store = self._open_store()
        seq, digest = self._head()
        return m.LedgerResult(
            kit_id=store.kit_id,
            head=m.Head(seq, digest),
            cards=store.ledger.counts(),
            printed=tuple(store.ledger.printed_cards()),
            audit=tuple(
                m.AuditLine(
                    entry_id, at, str(kind), json.dumps(detail, sort_keys=True, ensure_ascii=False)
                )
                for entry_id, at, kind, detail in store.audit.entries()
            ),
            audit_intact=store.audit.check() is None,
            at=self.host.now(),
            ranges=tuple(store.ledger.held()),
            spoiled=tuple(store.ledger.spoiled_cards()),
            begun=tuple((a.seq, a.serial) for a in store.ledger.unresolved()),
            handovers=tuple(store.handovers.events()),
        )

    def _handover_key(self) -> m.HandoverKeyResult:
        """A key for one handover batch: its private half stays in memory, so a batch can
        only ever be opened by this kit, and only now."""
        self._open_store()
        self._handover_secret = X25519PrivateKey.generate()
        return m.HandoverKeyResult(self._handover_secret.public_key().public_bytes_raw())

    def _handover(self, args: m.HandoverArgs) -> m.HandoverResult:
        """Open the office's batch with the handover key, and keep it under the data key."""
        store = self._open_store()
        secret, self._handover_secret = self._handover_secret, None
        if secret is None:
            raise p.MessageError("no handover key: ask for one (handover-key) first")
        try:
            batch = open_batch(args.sealed, secret, kit_id=store.kit_id)
        except BadHandover as exc:
            raise p.MessageError(str(exc)) from exc
        held = store.handovers.keep(batch)
        store.audit.append(
            AuditKind.HANDOVER_BATCH, batch=held.batch, village=held.village, cards=len(held.cards)
        )
        return m.HandoverResult(held.batch, len(held.cards))

    def _receipt(self, args: m.ReceiptArgs) -> m.ReceiptResult:
        store = self._open_store()
        try:
            receipt = store.record_receipt(args.receipt)  # the store checks it, as at boot
        except ReceiptError as exc:
            raise p.MessageError(str(exc)) from exc
        return m.ReceiptResult(receipt.seq, store.status().uncollected)


def serve_serial(
    kit_port: KitPort, serial_port: serial.Serial, *, stop: threading.Event, slice_s: float = 0.1
) -> None:
    """Serve the port on a real serial device (the Pi's /dev/ttyGS0) until ``stop`` is set.

    Every write has a deadline: a tool that stops reading (a cable pulled mid-answer)
    costs that answer, not the port.  Every read has one too (``slice_s``), and an empty
    read is fed as well, so a frame cut off mid-way is dropped within the decoder's idle
    time and the kit resyncs on the next request.
    """
    serial_port.timeout = slice_s
    serial_port.write_timeout = WRITE_TIMEOUT_SECONDS
    while not stop.is_set():
        try:
            # fed also when nothing came: time passes for a frame under way, so a cable
            # pulled mid-frame is given up within FRAME_IDLE, not at the next byte
            answer = kit_port.feed(serial_port.read(4096))
            if answer:
                serial_port.write(answer)
        except serial.SerialTimeoutException:
            log.warning("provisioning port: the tool stopped reading; answer dropped")
        except (serial.SerialException, OSError) as exc:
            log.warning("provisioning port: %s; waiting for the cable", exc)
            stop.wait(1.0)
