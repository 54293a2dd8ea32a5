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
deleting them.  ``keygen``, ``flash`` and ``purge`` run while the host holds the capture
loop at a safe point; an enrolment in progress refuses them with a ``busy`` answer.
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
from typing import Any, Protocol, TypeVar

import serial

from firmware.host import KitBusy
from firmware.worklist_transfer import WorklistStaging
from hal.exc import DeviceError
from kitlink import protocol as p
from kitlink.framing import MAX_FRAME, FrameDecoder, LinkError, encode_frame
from storage.audit import AuditKind
from storage.certificate import CertificateError, verify_certificate
from storage.codec import Tampered, loads
from storage.cose import parse_sign1
from storage.errors import KeyFileError, StorageError
from storage.files import record_files, record_name
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
from storage.provision import read_profile
from storage.reference import KEY_BYTES
from storage.signed_profile import ProfileChanged, changes

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Who the card ledger names for cards loaded at a flash.
PROVISIONING_OFFICER = "PROVISIONING"
#: The highest record number or byte offset a request may name (records are numbered 1, 2, ...).
SEQ_MAX = 2**31 - 1
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

    def selftest(self) -> list[dict[str, Any]]:
        """Verdicts as maps: device, ok, detail, check."""
        ...

    def change(self, work: Callable[[], T], *, check: Callable[[], None] | None = None) -> T:
        """At a safe point: ``check``, stop the kit, ``work``, open it again; KitBusy if busy."""
        ...


class KitPort:
    """Answers provisioning requests for the kit on ``host``, whose data is ``data_dir``.

    `handle` takes one request payload and returns the answer payload; `feed` does the
    same for raw bytes (frames in, frames out).  Thread-safe: one request at a time.
    """

    def __init__(
        self, data_dir: Path, host: KitHost, *, rng: Callable[[int], bytes] = os.urandom
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self._rng = rng
        self._nonce = p.new_nonce(rng)
        self._staged_authority: bytes | None = None
        self._kit_key: KitSigner | None = None  # read once per flash, not once per request
        self._decoder = FrameDecoder()
        self._worklist = WorklistStaging()
        self._lock = threading.Lock()
        self.handled: list[tuple[str, str]] = []  # (op, "ok" or refusal code), for tests/logs

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
        """Bytes from the port in; the framed answers to every complete request out."""
        with self._lock:
            requests = self._decoder.feed(data)
        return b"".join(encode_frame(self.handle(request)) for request in requests)

    def handle(self, payload: bytes) -> bytes:
        """One request payload in, one answer payload out; never raises, whatever it reads.

        Why a catch-all here: the port is a cable anyone may plug into, and a request the
        code did not foresee must cost its own answer, never the thread that serves the
        port.  What no handler names becomes a ``failed`` answer and a logged traceback.
        """
        with self._lock:
            try:
                request = p.parse_request(payload)
            except LinkError as exc:
                self.handled.append(("?", p.BAD_REQUEST))
                return p.refusal(p.BAD_REQUEST, str(exc))
            except Exception as exc:  # any failure: see the docstring
                log.exception("provisioning request did not decode")
                self.handled.append(("?", p.FAILED))
                return p.refusal(p.FAILED, f"the kit could not read the request ({exc!r})")
            try:
                answer = self._answer(request)
            except p.Refused as exc:
                log.warning("provisioning %s refused: %s", request.op, exc)
                self.handled.append((request.op, exc.code))
                return p.refusal(exc.code, str(exc), next_nonce=self._nonce)
            except Exception as exc:  # any failure: see the docstring
                log.exception("provisioning %s failed on the kit", request.op)
                self.handled.append((request.op, p.FAILED))
                return p.refusal(
                    p.FAILED,
                    f"{request.op} failed on the kit ({type(exc).__name__}); the kit goes on "
                    "serving: send the request again, and report it if it keeps failing",
                    next_nonce=self._nonce,
                )
            if len(answer) > MAX_FRAME:
                self.handled.append((request.op, p.FAILED))
                return p.refusal(
                    p.FAILED,
                    f"{request.op}: the answer of {len(answer)} bytes exceeds the frame limit",
                    next_nonce=self._nonce,
                )
            self.handled.append((request.op, "ok"))
            return answer

    def _answer(self, request: p.Request) -> bytes:
        if request.op == p.HELLO:
            return p.hello_answer(self._hello())
        args = p.open_request(request, self._authority_for(request), nonce=self._nonce)
        nonce, self._nonce = self._nonce, p.new_nonce(self._rng)  # spent: no replay
        try:
            result, key = self._dispatch(request.op, args)
        except KitBusy as exc:
            raise p.Refused(p.BUSY, str(exc)) from exc
        except (StorageError, DeviceError, OSError) as exc:
            raise p.Refused(p.FAILED, f"{request.op} failed on the kit: {exc}") from exc
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise p.Refused(p.BAD_REQUEST, f"{request.op}: bad arguments ({exc})") from exc
        return p.signed_answer(request.op, result, nonce=nonce, next_nonce=self._nonce, key=key)

    def _authority_for(self, request: p.Request) -> AuthorityPublic:
        profile = self._profile()
        if profile is not None:
            return profile.authority_public
        if request.op in (p.WORKLIST_PART, p.WORKLIST_COMMIT) and self._staged_authority:
            return AuthorityPublic.from_cbor(self._staged_authority)  # what keygen was told
        if request.op not in (p.KEYGEN, p.FLASH):
            raise p.Refused(p.NOT_PROVISIONED, f"this kit is not flashed yet: {request.op} waits")
        try:  # trust on first use: the authority the (still unverified) request names
            body = loads(parse_sign1(request.signed or b"").payload)
            return AuthorityPublic.from_cbor(body["args"]["authority"])
        except (Tampered, KeyError, TypeError, KeyFileError) as exc:
            raise p.Refused(p.UNSIGNED, f"{request.op} names no authority to check: {exc}") from exc

    def _hello(self) -> p.Hello:
        profile = self._profile()
        has_key = backend_of(kit_dir(self.data_dir)) is not None
        seq, digest = self._head()
        cert = certificate_path(self.data_dir)
        return p.Hello(
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

    def _dispatch(self, op: str, args: dict[str, Any]) -> tuple[dict[str, Any], KitSigner]:
        if op == p.KEYGEN:
            return self.host.change(
                lambda: self._keygen(args), check=lambda: self._refuse_uncollected("reflash")
            )
        if op == p.FLASH:
            return self._flash(args)
        if op == p.PURGE:
            key = self._key()
            return self.host.change(
                lambda: self._purge(key), check=lambda: self._refuse_uncollected("purge")
            )
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            p.SET_TIME: self._set_time,
            p.STATUS: self._status,
            p.SELFTEST: lambda _: {"verdicts": self.host.selftest()},
            p.LIST: self._list,
            p.GET: self._get,
            p.LEDGER: self._ledger,
            p.RECEIPT: self._receipt,
        }
        if op in (p.WORKLIST_PART, p.WORKLIST_COMMIT):
            staging = self._worklist.add_part if op == p.WORKLIST_PART else self._worklist.commit
            return staging(args), self._key_or_staged()
        return handlers[op](args), self._key()

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
            raise p.Refused(p.NOT_PROVISIONED, "the kit's store is not open")
        return store

    def _refuse_uncollected(self, what: str) -> None:
        count = self._uncollected()
        if count:
            raise p.Refused(
                p.UNCOLLECTED,
                f"{what} refused: the kit holds {count} record(s) no collector has receipted; "
                "run `jemput-prov collect` first",
            )

    def _purge(self, key: KitSigner) -> tuple[dict[str, Any], KitSigner]:
        self._retire()
        return {"purged": True}, key

    def _keygen(self, args: dict[str, Any]) -> tuple[dict[str, Any], KitSigner]:
        kit_dir(self.data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
        staged = staged_key_path(self.data_dir)
        shutil.rmtree(staged, ignore_errors=True)
        key = create_kit_key(staged, self.host.keys.backend, tcti=self.host.keys.tcti)
        self._staged_authority = args["authority"]
        result = {"public": key.public_bytes, "alg": int(key.alg), "store": key.backend.value}
        return result, key

    def _flash(self, args: dict[str, Any]) -> tuple[dict[str, Any], KitSigner]:
        """Check everything, then install the new kit at a safe point and boot it."""
        self._refuse_uncollected("reflash")
        staged = staged_key_path(self.data_dir)
        if backend_of(staged) is None or self._staged_authority != args["authority"]:
            raise p.Refused(p.BAD_REQUEST, "flash must follow a keygen by the same authority")
        authority = AuthorityPublic.from_cbor(args["authority"])
        key = open_kit_key(staged, tcti=self.host.keys.tcti)
        try:
            certificate = verify_certificate(args["cert"], authority, at=p.moment(args["time"]))
        except CertificateError as exc:
            raise p.Refused(p.BAD_REQUEST, f"flash: the kit certificate is refused: {exc}") from exc
        transfer = args.get("worklist_transfer")
        setup = p.setup_from_map(
            args, worklist=None if transfer is None else self._worklist.take(transfer)
        )
        if certificate.kit_public != key.public_bytes or certificate.kit_id != setup.kit_id:
            raise p.Refused(p.BAD_REQUEST, "flash: the certificate is not for this kit's new key")
        if certificate.backend is not key.backend or certificate.alg is not key.alg:
            raise p.Refused(
                p.BAD_REQUEST,
                f"flash: the certificate says the key is {certificate.backend.value} "
                f"({certificate.alg.name}), the kit's new key is {key.backend.value} "
                f"({key.alg.name}): certify what the keygen answered",
            )
        references = args.get("reference_key")
        if not isinstance(references, bytes) or len(references) != KEY_BYTES:
            raise p.Refused(
                p.BAD_REQUEST,
                "flash: the request carries no reference key: flash with a jemput-prov that "
                "keys worklist references (and an authority folder holding reference.key)",
            )
        profile = dataclasses.replace(
            setup.profile(args["authority"], demo=authority.demo, reference_key=references),
            signature=args["profile_signature"],
        )
        try:
            changed = changes(profile)
        except ProfileChanged as exc:
            raise p.Refused(p.BAD_REQUEST, f"flash: {exc}") from exc
        if changed or profile.authority_public.kid != authority.kid:
            raise p.Refused(
                p.BAD_REQUEST,
                f"flash: the authority's profile signature does not match the setup sent "
                f"({', '.join(changed) or 'authority key'} differ): flash again",
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
        self.host.set_clock(p.moment(args["time"]))
        store = self._open_store()
        if setup.cards:
            store.ledger.load(setup.cards, officer_id=PROVISIONING_OFFICER)
        store.audit.append(
            AuditKind.PROVISIONED,
            kit=setup.kit_id,
            officers=len(setup.officers),
            worklist=len(setup.worklist),
            cards=setup.cards,
        )
        result = {"kit_id": setup.kit_id, "time": p.seconds(self.host.now())}
        return result, key

    def _retire(self) -> None:
        """Move the old kit's files into retired/<time>/ (nothing is deleted).

        Runs inside ``host.change``: the kit and its store are closed.
        """
        self._kit_key = None
        retire(self.data_dir, now=self.host.now())

    def _set_time(self, args: dict[str, Any]) -> dict[str, Any]:
        before = self.host.now()
        self.host.set_clock(p.moment(args["time"]))
        self._open_store().audit.append(AuditKind.SET_TIME, before=before.isoformat())
        return {"time": p.seconds(self.host.now())}

    def _status(self, _: dict[str, Any]) -> dict[str, Any]:
        facts = self._open_store().status()
        broken = facts.audit_break
        return {
            "kit_id": facts.kit_id,
            "demo": facts.demo,
            "sealed": facts.sealed,
            "uncollected": facts.uncollected,
            "last_seq": facts.last_seq,
            "cards": facts.cards,
            "damaged": facts.damaged,
            "audit_break": f"entry {broken.entry_id} {broken.reason}" if broken else None,
            "journal_open": facts.journal_open,
            "time": p.seconds(self.host.now()),
        }

    def _list(self, args: dict[str, Any]) -> dict[str, Any]:
        first = p.whole(args["from"], "from", low=0, high=SEQ_MAX)
        last = p.whole(args["to"], "to", low=0, high=SEQ_MAX)
        rows = [
            [seq, path.stat().st_size]
            for seq, path in record_files(self._records_dir)
            if first <= seq <= last
        ]
        return {"records": rows[: p.LIST_MAX]}

    def _get(self, args: dict[str, Any]) -> dict[str, Any]:
        seq = p.whole(args["seq"], "seq", low=0, high=SEQ_MAX)
        offset = p.whole(args["offset"], "offset", low=0, high=SEQ_MAX)
        length = p.whole(args["length"], "length", low=1, high=p.CHUNK)
        path = self._records_dir / record_name(seq)
        if not path.is_file():
            raise p.Refused(p.BAD_REQUEST, f"record {seq} is not on this kit")
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if offset > size:
                raise p.Refused(p.BAD_REQUEST, f"offset {offset} is past record {seq}'s end")
            file.seek(offset)
            data = file.read(length)
        return {"seq": seq, "offset": offset, "size": size, "data": data}

    def _ledger(self, _: dict[str, Any]) -> dict[str, Any]:
        store = self._open_store()
        seq, digest = self._head()
        printed = [[number, serial] for number, serial in store.ledger.printed_cards()]
        audit = [
            [entry_id, at, kind, json.dumps(detail, sort_keys=True, ensure_ascii=False)]
            for entry_id, at, kind, detail in store.audit.entries()
        ]
        return {
            "kit_id": store.kit_id,
            "head": [seq, digest],
            "cards": store.ledger.counts(),
            "printed": printed,
            "audit": audit,
            "audit_intact": store.audit.check() is None,
            "at": p.seconds(self.host.now()),
        }

    def _receipt(self, args: dict[str, Any]) -> dict[str, Any]:
        store = self._open_store()
        data = args["receipt"]
        receipt = p.verify_receipt(data, store.authority, kit_id=store.kit_id)
        store.record_receipt(
            receipt.seq,
            receipt.head,
            data,
            verify=lambda blob: p.verify_receipt(blob, store.authority, kit_id=store.kit_id).seq,
        )
        return {"collected": receipt.seq, "uncollected": store.status().uncollected}


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
