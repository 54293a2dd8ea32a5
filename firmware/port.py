"""The kit's end of the provisioning port: answers the technician's tool.

Why here and not in `storage`: the port decides who may do what (every request but hello
signed by the authority, with the current nonce), and turns requests into calls on the
kit's store through its public API only.  The wire format is `provisioning.protocol`'s.

A kit that was never flashed has no authority to check signatures against: it trusts the
authority that signs its first ``keygen`` and ``flash`` (trust on first use; a factory
image may carry the authority's public key instead).  From then on only that authority is
obeyed.  Reflashing or purging a kit that holds records no receipt covers is refused: the
records are the truth, and only a collector's receipt lets them go.  A reflash moves the
old data folder's contents into ``retired/<time>/`` rather than deleting them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import serial

from hw_sim.link import PtyLink
from provisioning import protocol as p
from provisioning.framing import FrameDecoder, LinkError, encode_frame
from storage.certificate import CertificateError, verify_certificate
from storage.codec import Tampered, loads
from storage.cose import parse_sign1
from storage.errors import KeyFileError, StorageError
from storage.files import CERTIFICATE_NAME, record_files, record_name
from storage.keys import AuthorityPublic, KitKey
from storage.kit import (
    KEY_FILE,
    KIT_FOLDER,
    PROFILE_FILE,
    RECORDS_FOLDER,
    KitStore,
    install,
    key_path,
)
from storage.profile import Profile, load_profile, resident_from_map

log = logging.getLogger(__name__)

STATE_FILES = ("state.db", "state.db-wal", "state.db-shm")
RETIRED_FOLDER = "retired"
STAGED_KEY = "kit.key.new"
#: Who the card ledger names for cards loaded at a flash.
PROVISIONING_OFFICER = "PROVISIONING"


class KitHost(Protocol):
    """What the port needs from the program it runs in (the kit, the simulator, a test)."""

    @property
    def store(self) -> KitStore | None:
        """The open store, or None while the kit is not provisioned."""
        ...

    def now(self) -> datetime: ...

    def stop_kit(self) -> None:
        """Close the kit and its store before its data folder changes (reflash, purge)."""
        ...

    def start_kit(self) -> None:
        """Open the kit on its freshly flashed data folder."""
        ...

    def set_clock(self, when: datetime) -> None: ...

    def selftest(self) -> list[dict[str, Any]]:
        """Verdicts as maps: device, ok, detail."""
        ...


class StoreHost:
    """A host with a store and no devices: a kit's data folder served on its own.

    Enough for the protocol's tests and for serving a data folder from a laptop; its clock
    is the real one shifted by whatever ``settime`` said.
    """

    def __init__(self, data_dir: Path, *, now: Callable[[], datetime]) -> None:
        self.data_dir = Path(data_dir)
        self._now = now
        self._offset = timedelta()
        self._store: KitStore | None = None
        self.start_kit()

    @property
    def store(self) -> KitStore | None:
        return self._store

    def now(self) -> datetime:
        return self._now() + self._offset

    def stop_kit(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def start_kit(self) -> None:
        if (self.data_dir / KIT_FOLDER / PROFILE_FILE).exists():
            self._store = KitStore(self.data_dir, now=self.now)

    def set_clock(self, when: datetime) -> None:
        self._offset = when - self._now()

    def selftest(self) -> list[dict[str, Any]]:
        return [{"device": "devices", "ok": False, "detail": "this host has no devices"}]

    def close(self) -> None:
        self.stop_kit()


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
        self._kit_key: KitKey | None = None  # read once per flash, not once per request
        self._decoder = FrameDecoder()
        self._lock = threading.Lock()
        self.handled: list[tuple[str, str]] = []  # (op, "ok" or refusal code), for tests/logs

    # -- paths and facts -------------------------------------------------------------------

    @property
    def _kit_dir(self) -> Path:
        return self.data_dir / KIT_FOLDER

    @property
    def _records_dir(self) -> Path:
        return self.data_dir / RECORDS_FOLDER

    def _profile(self) -> Profile | None:
        store = self.host.store
        if store is not None:
            return store.profile
        path = self._kit_dir / PROFILE_FILE
        return load_profile(path) if path.exists() else None

    def _head(self) -> tuple[int, bytes | None]:
        """The chain's head as the store indexed it; (0, None) before a store is open."""
        store = self.host.store
        return store.head() if store is not None else (0, None)

    def _uncollected(self) -> int:
        store = self.host.store
        if store is not None:
            return store.status().uncollected
        # no store open: any record file left would be uncollected (a half-done flash)
        return sum(1 for _ in record_files(self._records_dir)) if self._records_dir.is_dir() else 0

    # -- the wire --------------------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Bytes from the port in; the framed answers to every complete request out."""
        with self._lock:
            requests = self._decoder.feed(data)
        return b"".join(encode_frame(self.handle(request)) for request in requests)

    def handle(self, payload: bytes) -> bytes:
        """One request payload in, one answer payload out; never raises for bad input."""
        with self._lock:
            try:
                request = p.parse_request(payload)
            except LinkError as exc:
                self.handled.append(("?", p.BAD_REQUEST))
                return p.refusal(p.BAD_REQUEST, str(exc))
            try:
                answer = self._answer(request)
            except p.Refused as exc:
                log.warning("provisioning %s refused: %s", request.op, exc)
                self.handled.append((request.op, exc.code))
                return p.refusal(exc.code, str(exc), next_nonce=self._nonce)
            self.handled.append((request.op, "ok"))
            return answer

    def _answer(self, request: p.Request) -> bytes:
        if request.op == p.HELLO:
            return p.hello_answer(self._hello())
        args = p.open_request(request, self._authority_for(request), nonce=self._nonce)
        nonce, self._nonce = self._nonce, p.new_nonce(self._rng)  # spent: no replay
        try:
            result, key = self._dispatch(request.op, args)
        except (StorageError, OSError) as exc:
            raise p.Refused(p.FAILED, f"{request.op} failed on the kit: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise p.Refused(p.BAD_REQUEST, f"{request.op}: bad arguments ({exc!r})") from exc
        return p.signed_answer(request.op, result, nonce=nonce, next_nonce=self._nonce, key=key)

    def _authority_for(self, request: p.Request) -> AuthorityPublic:
        profile = self._profile()
        if profile is not None:
            return AuthorityPublic.from_cbor(profile.authority)
        if request.op not in (p.KEYGEN, p.FLASH):
            raise p.Refused(p.NOT_PROVISIONED, f"this kit is not flashed yet: {request.op} waits")
        try:  # trust on first use: the authority the (still unverified) request names
            body = loads(parse_sign1(request.signed or b"").payload)
            return AuthorityPublic.from_cbor(body["args"]["authority"])
        except (Tampered, KeyError, TypeError, KeyFileError) as exc:
            raise p.Refused(p.UNSIGNED, f"{request.op} names no authority to check: {exc}") from exc

    def _hello(self) -> p.Hello:
        profile = self._profile()
        key_path = self._kit_dir / KEY_FILE
        seq, digest = self._head()
        cert = self._records_dir / CERTIFICATE_NAME
        return p.Hello(
            provisioned=profile is not None,
            kit_id=profile.kit_id if profile else None,
            demo=profile.demo if profile else False,
            nonce=self._nonce,
            head_seq=seq,
            head_hash=digest,
            uncollected=self._uncollected(),
            public=self._key().public_bytes if profile and key_path.exists() else None,
            certificate=cert.read_bytes() if profile and cert.exists() else None,
        )

    # -- the ops ---------------------------------------------------------------------------

    def _dispatch(self, op: str, args: dict[str, Any]) -> tuple[dict[str, Any], KitKey]:
        if op == p.KEYGEN:
            return self._keygen(args)
        if op == p.FLASH:
            return self._flash(args)
        if op == p.PURGE:
            key = self._key()
            self._refuse_uncollected("purge")
            self._retire()
            return {"purged": True}, key
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            p.SET_TIME: self._set_time,
            p.STATUS: self._status,
            p.SELFTEST: lambda _: {"verdicts": self.host.selftest()},
            p.LIST: self._list,
            p.GET: self._get,
            p.LEDGER: self._ledger,
            p.RECEIPT: self._receipt,
        }
        return handlers[op](args), self._key()

    def _key(self) -> KitKey:
        """The kit's signing key, read from its file once (a collect asks for many chunks)."""
        if self._kit_key is None:
            self._kit_key = KitKey.load(self._kit_dir / KEY_FILE)
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

    def _keygen(self, args: dict[str, Any]) -> tuple[dict[str, Any], KitKey]:
        self._refuse_uncollected("reflash")
        self._kit_dir.mkdir(parents=True, exist_ok=True)
        staged = self._kit_dir / STAGED_KEY
        staged.unlink(missing_ok=True)
        key = KitKey.create(staged)
        self._staged_authority = args["authority"]
        return {"public": key.public_bytes}, key

    def _flash(self, args: dict[str, Any]) -> tuple[dict[str, Any], KitKey]:
        self._refuse_uncollected("reflash")
        staged = self._kit_dir / STAGED_KEY
        if not staged.exists() or self._staged_authority != args["authority"]:
            raise p.Refused(p.BAD_REQUEST, "flash must follow a keygen by the same authority")
        authority = AuthorityPublic.from_cbor(args["authority"])
        key = KitKey.load(staged)
        try:
            certificate = verify_certificate(args["cert"], authority, at=p.moment(args["time"]))
        except CertificateError as exc:
            raise p.Refused(p.BAD_REQUEST, f"flash: the kit certificate is refused: {exc}") from exc
        if certificate.kit_public != key.public_bytes or certificate.kit_id != args["kit_id"]:
            raise p.Refused(p.BAD_REQUEST, "flash: the certificate is not for this kit's new key")
        profile = Profile(
            kit_id=args["kit_id"],
            region=args["region"],
            policy=p.policy_from_map(args["policy"]),
            officers=tuple(p.officer_from_map(o) for o in args["officers"]),
            worklist=tuple(resident_from_map(dict(r)) for r in args["worklist"]),
            authority=args["authority"],
            demo=authority.demo,
        )
        self._retire()
        os.replace(staged, key_path(self.data_dir))
        self._kit_key = key
        install(self.data_dir, certificate=certificate.data, profile=profile)
        self._staged_authority = None
        self.host.set_clock(p.moment(args["time"]))
        self.host.start_kit()
        store = self._open_store()
        if args.get("cards"):
            store.ledger.load(args["cards"], officer_id=PROVISIONING_OFFICER)
        store.audit.append(
            "provisioned",
            kit=profile.kit_id,
            officers=len(profile.officers),
            worklist=len(profile.worklist),
            cards=args.get("cards", 0),
        )
        result = {"kit_id": profile.kit_id, "time": p.seconds(self.host.now())}
        return result, key

    def _retire(self) -> None:
        """Move the old kit's files into retired/<time>/ (nothing is deleted)."""
        self.host.stop_kit()
        self._kit_key = None
        old = [self._kit_dir / KEY_FILE, self._kit_dir / PROFILE_FILE, self._records_dir]
        old += [self.data_dir / name for name in STATE_FILES]
        present = [path for path in old if path.exists()]
        if not present:
            return
        stamp = self.host.now().strftime("%Y%m%dT%H%M%S%f")
        target = self.data_dir / RETIRED_FOLDER / stamp
        target.mkdir(parents=True)
        for path in present:
            shutil.move(path, target / path.name)
        log.info("retired the previous kit's files into %s", target)

    def _set_time(self, args: dict[str, Any]) -> dict[str, Any]:
        before = self.host.now()
        self.host.set_clock(p.moment(args["time"]))
        self._open_store().audit.append("settime", before=before.isoformat())
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
        first, last = int(args["from"]), int(args["to"])
        rows = [
            [seq, path.stat().st_size]
            for seq, path in record_files(self._records_dir)
            if first <= seq <= last
        ]
        return {"records": rows[: p.LIST_MAX]}

    def _get(self, args: dict[str, Any]) -> dict[str, Any]:
        seq, offset = int(args["seq"]), int(args["offset"])
        length = min(int(args["length"]), p.CHUNK)
        path = self._records_dir / record_name(seq)
        if not path.is_file():
            raise p.Refused(p.BAD_REQUEST, f"record {seq} is not on this kit")
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
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
        store.audit.append("collected", up_to=receipt.seq)
        return {"collected": receipt.seq, "uncollected": store.status().uncollected}


class PtyPort:
    """The kit's provisioning port on a pty (the simulator's USB gadget serial).

    The tool opens ``port`` (or ``link_path``, a symlink to it) as it would /dev/ttyACM0.
    """

    def __init__(self, kit_port: KitPort, *, link_path: str | os.PathLike[str] | None = None):
        self._kit_port = kit_port
        self._ready = threading.Event()
        self.link = PtyLink(self._on_bytes, link_path=link_path, name="provisioning")
        self.port = self.link.port
        self._ready.set()

    def _on_bytes(self, chunk: bytes) -> None:
        self._ready.wait(timeout=1.0)
        answer = self._kit_port.feed(chunk)
        if answer:
            self.link.send(answer)

    def close(self) -> None:
        """Unplug: the tool sees the port go away; safe twice."""
        self.link.close()

    def __enter__(self) -> PtyPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_serial(
    kit_port: KitPort, serial_port: serial.Serial, *, stop: threading.Event, slice_s: float = 0.1
) -> None:
    """Serve the port on a real serial device (the Pi's /dev/ttyGS0) until ``stop`` is set."""
    serial_port.timeout = slice_s
    while not stop.is_set():
        try:
            chunk = serial_port.read(4096)
            if chunk:
                answer = kit_port.feed(chunk)
                if answer:
                    serial_port.write(answer)
        except (serial.SerialException, OSError) as exc:
            log.warning("provisioning port: %s; waiting for the cable", exc)
            stop.wait(1.0)
