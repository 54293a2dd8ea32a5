"""What each op carries: its arguments and its result, as typed, checked dataclasses.

Why typed: the kit must check every input from the port, and the tool every answer a
stolen or broken kit may sign; a ``dict[str, Any]`` handed along checks nothing and leaves
each reader to guess.  Each op has an ``...Args`` class (the tool builds it, ``to_map``
puts it on the wire, the kit reads it back with ``from_map``) and a ``...Result`` class
(the other way round).  Every ``from_map`` reads with `kitlink.protocol.Fields`: each
field by its type and range, unknown fields refused, and a MessageError naming the field.
A value with a type of its own (the authority's public keys, a time, an officer) is
decoded here, once, and travels typed from then on.

The ops and their fields are listed in docs/provisioning-protocol.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, ClassVar, Protocol, TypeVar

from kitlink.framing import MAX_FRAME
from kitlink.protocol import (
    DIGEST_BYTES,
    NONCE_BYTES,
    SEQ_MAX,
    TEXT_MAX,
    Fields,
    MessageError,
    Op,
    check_refusal,
    kept_result,
    member_of,
    seconds,
)
from kitlink.release import Version
from storage.blanks import BadSerialRange, SerialRange, first_overlap
from storage.certificate import BadKitId, check_kit_id
from storage.codec import MAX_BYTES
from storage.cose import SignAlg
from storage.errors import KeyFileError
from storage.handover import BadHandover, HandoverEvent
from storage.keys import AuthorityPublic, KeyBackend
from storage.model import Officer, Policy, Resident
from storage.policy import PolicyError, check_pages
from storage.profile import (
    officer_from_map,
    officer_to_map,
    policy_from_map,
    policy_to_map,
    resident_from_map,
    resident_to_map,
    worklist_sha256,
)
from storage.provision import KitSetup
from storage.reference import KEY_BYTES

#: The most records one kit chain may claim: a head beyond it is a lie, not a busy year.
MAX_CHAIN = 10_000_000
#: Bytes per ``update-part``, and the longest ``get`` a kit of an earlier release serves.
CHUNK = 64 * 1024
#: The longest ``get`` (record bytes per answer): a sealed record of about 400 KiB comes in
#: two answers, not seven, and the signed answer around the bytes (a few hundred bytes)
#: still leaves its frame well under MAX_FRAME.
GET_MAX = 240 * 1024
#: Records per ``list`` answer.
LIST_MAX = 500
#: Bytes of a worklist transfer's id (random, made by the tool).
TRANSFER_BYTES = 16
#: Residents per ``worklist-part``: about 370 bytes each, so a part stays under MAX_FRAME.
PART_RESIDENTS = 400
#: The most parts one transfer may have, and the most residents a kit takes.
MAX_PARTS = 1_000
MAX_RESIDENTS = 200_000
#: A round's code is at most 32 characters (`storage.model.ROUND_CODE`).
ROUND_CODE_MAX = 32
#: Officers a flash may carry, each on a page of the fingerprint sensor's library.
OFFICERS_MAX = 1_000
#: A sensor library page is a 16-bit number on the R30x's wire; an officer logs in with
#: at most ten fingers, each on its own page.
PAGE_MAX = 0xFFFF
FINGERS = 10
#: An officer's PIN salt and scrypt hash are a few dozen bytes.
PIN_BYTES = range(1, 65)
#: A kit key's public half: Ed25519 (32 bytes) or an uncompressed P-256 point (65).
PUBLIC_KEY_BYTES = (32, 65)
#: Signed bytes (a certificate, a receipt, a signature) fit in a frame.
SIGNED_BYTES = range(1, MAX_FRAME + 1)
#: The kit's clock, as it answers settime, must lie within these years to be believed.
CLOCK_YEARS = (2000, 2200)
#: Counts a kit reports (records, cards, audit entries) are whole numbers up to this.
COUNT_MAX = SEQ_MAX
#: Serial ranges of blank cards one flash may hand a kit.
RANGES_MAX = 100
#: An X25519 public key's bytes.
X25519_BYTES = 32
#: The largest release bundle a kit takes, in bytes.
MAX_BUNDLE = SEQ_MAX
#: A version as text: MAJOR.MINOR.PATCH, or a package's version outside slots.
VERSION_TEXT = 100

E = TypeVar("E", bound=Enum)
R_co = TypeVar("R_co", covariant=True)


class Call(Protocol[R_co]):
    """What the tool sends: an op, its arguments as a map, and how the kit's result reads."""

    @property
    def op(self) -> Op: ...

    def to_map(self) -> dict[str, Any]: ...

    def read_result(self, data: Mapping[str, Any]) -> R_co: ...


#: What a request's errors call it: the kit's refusal names the op before.
_REQUEST = "the request"


def _answer(op: Op) -> str:
    return f"the kit's {op} answer"


# -- values inside maps ----------------------------------------------------------------------


def _choice(fields: Fields, name: str, kind: type[E]) -> E:
    """The member of ``kind`` whose value the field holds, of the very same type (no 1.0)."""
    value = fields.value(name)
    member = member_of(kind, value)
    if member is not None:
        return member
    allowed = ", ".join(repr(each.value) for each in kind)
    fields.fail(f"field {name!r} must be one of {allowed}, not {value!r:.60}")


def _authority(fields: Fields) -> AuthorityPublic:
    """The authority's public keys, decoded from their CBOR here and nowhere else."""
    return fields.converted("authority", AuthorityPublic.from_cbor, KeyFileError)


def _kit_id(fields: Fields, name: str = "kit_id") -> str:
    return fields.converted(name, check_kit_id, BadKitId)


def _digest(fields: Fields, name: str) -> bytes:
    return fields.raw(name, sizes=(DIGEST_BYTES,))


def _count(fields: Fields, name: str) -> int:
    return fields.whole(name, low=0, high=COUNT_MAX)


def _rows(fields: Fields, name: str, kinds: tuple[type, ...], *, most: int) -> list[Sequence[Any]]:
    """A list of at most ``most`` rows, each a list of values exactly of ``kinds`` (no bool
    for an int), in order."""
    rows = fields.items(name, most=most)
    for row in rows:
        if (
            not isinstance(row, list | tuple)
            or len(row) != len(kinds)
            or any(type(cell) is not kind for cell, kind in zip(row, kinds, strict=True))
        ):
            shape = ", ".join(kind.__name__ for kind in kinds)
            fields.fail(f"{row!r:.80} in {name!r} is not [{shape}]")
    return rows


def _ranges(fields: Fields, name: str) -> tuple[SerialRange, ...]:
    """Serial ranges of blank cards (`storage.blanks`), none overlapping another."""
    try:
        ranges = tuple(
            SerialRange.from_list(value) for value in fields.items(name, most=RANGES_MAX)
        )
    except BadSerialRange as exc:
        fields.fail(f"field {name!r}: {exc}")
    overlap = first_overlap(ranges)
    if overlap is not None:
        fields.fail(f"field {name!r}: ranges {overlap[0]} and {overlap[1]} overlap")
    return ranges


def _counts(fields: Fields, name: str) -> dict[str, int]:
    """A map of names to counts (the card ledger's loaded, printed, ...)."""
    value = fields.value(name)
    if (
        not isinstance(value, Mapping)
        or len(value) > TEXT_MAX
        or not all(isinstance(key, str) for key in value)
        or not all(type(count) is int and 0 <= count <= COUNT_MAX for count in value.values())
    ):
        fields.fail(f"field {name!r} must map names to counts, not {value!r:.80}")
    return dict(value)


_RESIDENT_FIELDS = tuple(field.name for field in dataclasses.fields(Resident))


def _resident(value: object, where: str) -> Resident:
    """A resident map (`storage.profile.resident_to_map`), checked field by field.

    Every field is text (``worklist_ref`` may be null); the profile's codec then reads
    the sex, the purpose and the birth date, and what it refuses is named with ``where``.
    """
    with Fields(value, where) as fields:
        for name in _RESIDENT_FIELDS:
            if name != "worklist_ref" or fields.value(name) is not None:
                fields.text(name, most=TEXT_MAX, least=0)
        try:
            return resident_from_map(dict(fields.data))
        except ValueError as exc:
            fields.fail(str(exc))


def _officer(value: object, where: str) -> Officer:
    """An officer map (`storage.profile.officer_to_map`), checked field by field."""
    with Fields(value, where) as fields:
        for name in ("id", "name", "role"):
            fields.text(name, most=TEXT_MAX)
        for name in ("salt", "hash"):
            fields.raw(name, sizes=PIN_BYTES)
        for page in fields.items("pages", most=FINGERS):
            if type(page) is not int or not 0 <= page <= PAGE_MAX:
                fields.fail(f"field 'pages' must list pages 0..{PAGE_MAX}, not {page!r:.40}")
        try:
            return officer_from_map(fields.data)
        except ValueError as exc:
            fields.fail(str(exc))


def _policy(value: object) -> Policy:
    """A policy map, read by the profile's codec, which checks it by the policy's rules
    (`storage.policy`): a PolicyError names every key that breaks one."""
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise MessageError(f"the policy is not a map of keys to values but {value!r:.60}")
    try:
        return policy_from_map(value)
    except PolicyError as exc:
        raise MessageError(str(exc)) from exc


def worklist_digest(residents: Sequence[Resident]) -> bytes:
    """SHA-256 of a worklist as resident maps in canonical CBOR: what a commit compares
    (`storage.profile.worklist_sha256`, one resident at a time)."""
    return worklist_sha256(residents)


# -- hello -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """What a kit says about itself before anyone proves who they are (nothing trusted)."""

    provisioned: bool
    kit_id: str | None
    demo: bool
    nonce: bytes
    head_seq: int
    head_hash: bytes | None
    uncollected: int
    public: bytes | None
    certificate: bytes | None

    def to_map(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_map(cls, data: object) -> Hello:
        with Fields(data, _answer(Op.HELLO)) as fields:
            return cls(
                provisioned=fields.flag("provisioned"),
                kit_id=fields.maybe("kit_id", lambda name: _kit_id(fields, name)),
                demo=fields.flag("demo"),
                nonce=fields.raw("nonce", sizes=(NONCE_BYTES,)),
                head_seq=fields.whole("head_seq", low=0, high=MAX_CHAIN),
                head_hash=fields.maybe("head_hash", lambda name: _digest(fields, name)),
                uncollected=fields.whole("uncollected", low=0, high=MAX_CHAIN),
                public=fields.maybe(
                    "public", lambda name: fields.raw(name, sizes=PUBLIC_KEY_BYTES)
                ),
                certificate=fields.maybe(
                    "certificate", lambda name: fields.raw(name, sizes=SIGNED_BYTES)
                ),
            )


def hello_of(message: Mapping[str, Any]) -> Hello:
    """The hello in a hello answer; Refused if the kit refused, MessageError if malformed."""
    check_refusal(message)
    return Hello.from_map(message.get("hello"))


# -- keygen and flash ------------------------------------------------------------------------


@dataclass(frozen=True)
class KeygenResult:
    """The kit's new public key (the answer is signed with it: proof of possession), its
    algorithm and what holds it, as the certificate will record them."""

    public: bytes
    alg: SignAlg
    store: KeyBackend

    def to_map(self) -> dict[str, Any]:
        return {"public": self.public, "alg": self.alg.value, "store": self.store.value}

    @classmethod
    def from_map(cls, data: object) -> KeygenResult:
        with Fields(data, _answer(Op.KEYGEN)) as fields:
            return cls(
                fields.raw("public", sizes=PUBLIC_KEY_BYTES),
                _choice(fields, "alg", SignAlg),
                _choice(fields, "store", KeyBackend),
            )


@dataclass(frozen=True)
class KeygenArgs:
    """Make a new key pair for the flash to come, under ``authority``."""

    op: ClassVar[Op] = Op.KEYGEN
    authority: AuthorityPublic

    def to_map(self) -> dict[str, Any]:
        return {"authority": self.authority.to_cbor()}

    @classmethod
    def from_map(cls, data: object) -> KeygenArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(_authority(fields))

    read_result = staticmethod(KeygenResult.from_map)


@dataclass(frozen=True)
class FlashResult:
    kit_id: str
    time: datetime

    def to_map(self) -> dict[str, Any]:
        return {"kit_id": self.kit_id, "time": seconds(self.time)}

    @classmethod
    def from_map(cls, data: object) -> FlashResult:
        with Fields(data, _answer(Op.FLASH)) as fields:
            return cls(_kit_id(fields), fields.moment("time"))


@dataclass(frozen=True)
class FlashArgs:
    """Everything a flash loads but the worklist, which a committed transfer names."""

    op: ClassVar[Op] = Op.FLASH
    authority: AuthorityPublic
    kit_id: str
    region: str
    officers: tuple[Officer, ...]
    policy: Policy
    #: The serial ranges of blank cards the district hands the kit.
    cards: tuple[SerialRange, ...]
    worklist_transfer: bytes
    #: The kit certificate the tool made for the key keygen answered.
    cert: bytes
    time: datetime
    #: Kept only inside the kit's encrypted profile: it keys the references in headers.
    reference_key: bytes
    #: The authority's signature over the profile this flash makes (checked at every boot).
    profile_signature: bytes

    @classmethod
    def of(cls, setup: KitSetup, **fields: Any) -> FlashArgs:
        """The flash of ``setup`` (its worklist goes by transfer), with the other fields."""
        return cls(
            kit_id=setup.kit_id,
            region=setup.region,
            officers=setup.officers,
            policy=setup.policy,
            cards=setup.cards,
            **fields,
        )

    def setup(self, worklist: tuple[Resident, ...]) -> KitSetup:
        """The setup this flash loads, with the worklist its transfer committed."""
        return KitSetup(
            self.kit_id, self.region, self.officers, worklist, self.policy, cards=self.cards
        )

    def to_map(self) -> dict[str, Any]:
        return {
            "authority": self.authority.to_cbor(),
            "kit_id": self.kit_id,
            "region": self.region,
            "officers": [officer_to_map(officer) for officer in self.officers],
            "policy": policy_to_map(self.policy),
            "cards": [held.to_list() for held in self.cards],
            "worklist_transfer": self.worklist_transfer,
            "cert": self.cert,
            "time": seconds(self.time),
            "reference_key": self.reference_key,
            "profile_signature": self.profile_signature,
        }

    @classmethod
    def from_map(cls, data: object) -> FlashArgs:
        with Fields(data, _REQUEST) as fields:
            officers = fields.items("officers", most=OFFICERS_MAX)
            references = fields.value("reference_key")
            if not isinstance(references, bytes) or len(references) != KEY_BYTES:
                fields.fail(
                    f"field 'reference_key' holds no reference key ({KEY_BYTES} bytes): flash "
                    "with a jemput-prov that keys worklist references (and an authority folder "
                    "holding reference.key)"
                )
            staff = tuple(
                _officer(officer, f"officer {index}") for index, officer in enumerate(officers)
            )
            policy = fields.converted("policy", _policy)
            try:  # the officers' login pages must lie in the sensor library the policy sizes
                check_pages(policy, staff)
            except PolicyError as exc:
                fields.fail(f"field 'policy': {exc}")
            return cls(
                authority=_authority(fields),
                kit_id=_kit_id(fields),
                region=fields.text("region", most=TEXT_MAX),
                officers=staff,
                policy=policy,
                cards=_ranges(fields, "cards"),
                worklist_transfer=fields.raw("worklist_transfer", sizes=(TRANSFER_BYTES,)),
                cert=fields.raw("cert", sizes=SIGNED_BYTES),
                time=fields.moment("time"),
                reference_key=references,
                profile_signature=fields.raw("profile_signature", sizes=SIGNED_BYTES),
            )

    read_result = staticmethod(FlashResult.from_map)


# -- the chunked worklist --------------------------------------------------------------------


def _transfer(fields: Fields) -> bytes:
    return fields.raw("transfer", sizes=(TRANSFER_BYTES,))


def _parts(fields: Fields) -> int:
    return fields.whole("count", low=1, high=MAX_PARTS)


@dataclass(frozen=True)
class WorklistPartResult:
    #: Residents the kit holds in this transfer, this part included.
    received: int

    def to_map(self) -> dict[str, Any]:
        return {"received": self.received}

    @classmethod
    def from_map(cls, data: object) -> WorklistPartResult:
        with Fields(data, _answer(Op.WORKLIST_PART)) as fields:
            return cls(fields.whole("received", low=0, high=MAX_RESIDENTS))


@dataclass(frozen=True)
class WorklistPartArgs:
    """Part ``index`` of ``count`` of worklist transfer ``transfer``."""

    op: ClassVar[Op] = Op.WORKLIST_PART
    transfer: bytes
    index: int
    count: int
    residents: tuple[Resident, ...]

    def to_map(self) -> dict[str, Any]:
        return {
            "transfer": self.transfer,
            "index": self.index,
            "count": self.count,
            "residents": [resident_to_map(resident) for resident in self.residents],
        }

    @classmethod
    def from_map(cls, data: object) -> WorklistPartArgs:
        with Fields(data, _REQUEST) as fields:
            count = _parts(fields)
            index = fields.whole("index", low=0, high=count - 1)
            residents = fields.items("residents", most=PART_RESIDENTS)
            return cls(
                _transfer(fields),
                index,
                count,
                tuple(
                    _resident(resident, f"part {index}, resident {position}")
                    for position, resident in enumerate(residents)
                ),
            )

    read_result = staticmethod(WorklistPartResult.from_map)


@dataclass(frozen=True)
class WorklistCommitResult:
    #: The residents the kit checked against the digest, and now holds for a flash.
    residents: int

    def to_map(self) -> dict[str, Any]:
        return {"residents": self.residents}

    @classmethod
    def from_map(cls, data: object) -> WorklistCommitResult:
        with Fields(data, _answer(Op.WORKLIST_COMMIT)) as fields:
            return cls(fields.whole("residents", low=0, high=MAX_RESIDENTS))


@dataclass(frozen=True)
class WorklistCommitArgs:
    """The transfer is complete: ``count`` parts, ``residents`` in all, with this digest."""

    op: ClassVar[Op] = Op.WORKLIST_COMMIT
    transfer: bytes
    count: int
    residents: int
    sha256: bytes

    def to_map(self) -> dict[str, Any]:
        return {
            "transfer": self.transfer,
            "count": self.count,
            "residents": self.residents,
            "sha256": self.sha256,
        }

    @classmethod
    def from_map(cls, data: object) -> WorklistCommitArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(
                _transfer(fields),
                _parts(fields),
                fields.whole("residents", low=0, high=MAX_RESIDENTS),
                _digest(fields, "sha256"),
            )

    read_result = staticmethod(WorklistCommitResult.from_map)


# -- the next round --------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundResult:
    """The round the kit now names in what it seals, and how many people it lists."""

    code: str
    people: int

    def to_map(self) -> dict[str, Any]:
        return {"code": self.code, "people": self.people}

    @classmethod
    def from_map(cls, data: object) -> RoundResult:
        with Fields(data, _answer(Op.ROUND)) as fields:
            return cls(
                fields.text("code", most=ROUND_CODE_MAX),
                fields.whole("people", low=0, high=MAX_RESIDENTS),
            )


@dataclass(frozen=True)
class RoundArgs:
    """Load the next round, keeping the kit's chain: the authority's signed plan
    (`storage.rounds.sign_round`, checked by the kit against its profile's authority), and
    the people it lists, which a committed worklist transfer carries."""

    op: ClassVar[Op] = Op.ROUND
    plan: bytes
    people_transfer: bytes

    def to_map(self) -> dict[str, Any]:
        return {"plan": self.plan, "people_transfer": self.people_transfer}

    @classmethod
    def from_map(cls, data: object) -> RoundArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(
                fields.raw("plan", sizes=SIGNED_BYTES),
                fields.raw("people_transfer", sizes=(TRANSFER_BYTES,)),
            )

    read_result = staticmethod(RoundResult.from_map)


# -- the kit's clock, status and self-test ---------------------------------------------------


@dataclass(frozen=True)
class SetTimeResult:
    #: The kit's clock once set.
    time: datetime

    def to_map(self) -> dict[str, Any]:
        return {"time": seconds(self.time)}

    @classmethod
    def from_map(cls, data: object) -> SetTimeResult:
        with Fields(data, _answer(Op.SET_TIME)) as fields:
            clock = fields.moment("time")
            if not CLOCK_YEARS[0] <= clock.year < CLOCK_YEARS[1]:
                fields.fail(f"time {clock.isoformat()} is no moment in {CLOCK_YEARS}")
            return cls(clock)


@dataclass(frozen=True)
class SetTimeArgs:
    op: ClassVar[Op] = Op.SET_TIME
    time: datetime

    def to_map(self) -> dict[str, Any]:
        return {"time": seconds(self.time)}

    @classmethod
    def from_map(cls, data: object) -> SetTimeArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(fields.moment("time"))

    read_result = staticmethod(SetTimeResult.from_map)


class Slot(StrEnum):
    """One of the kit's two software slots (docs/updates.md)."""

    A = "a"
    B = "b"

    @property
    def other(self) -> Slot:
        return Slot.B if self is Slot.A else Slot.A


class UpdateOutcome(StrEnum):
    """How an update ended; the value is what `status` carries."""

    COMMITTED = "committed"
    ROLLED_BACK = "rolled-back"


@dataclass(frozen=True)
class UpdateReport:
    """The kit's last update: the version it tried, how and when it ended, and why."""

    outcome: UpdateOutcome
    version: str
    at: datetime
    #: Why it was rolled back; for a committed one, what its self-test could not check
    #: (e.g. a Pico that did not answer), or "".
    reason: str

    def to_map(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "version": self.version,
            "at": seconds(self.at),
            "reason": self.reason,
        }

    @classmethod
    def from_map(cls, data: object) -> UpdateReport:
        with Fields(data, "the last update") as fields:
            return cls(
                _choice(fields, "outcome", UpdateOutcome),
                fields.text("version", most=VERSION_TEXT),
                fields.moment("at"),
                fields.text("reason", most=TEXT_MAX, least=0),
            )


@dataclass(frozen=True)
class SoftwareStatus:
    """Which software a kit runs, for the technician and, later, the district's fleet view.

    Every field is typed on the wire: versions are text (a release's MAJOR.MINOR.PATCH,
    `kitlink.release.Version`), the slot ``"a"`` or ``"b"`` (null outside slots).
    """

    #: The release the kit runs; a kit outside slots (the simulator) its package's version.
    version: str
    slot: Slot | None
    #: The version runs on trial: it has not passed its self-test yet.
    on_trial: bool
    #: The Pico's firmware version as the Pico reports it; null when no Pico answers.
    pico_version: str | None
    #: The lowest software version the authority allows on this kit (null: none set).
    minimum: Version | None
    last_update: UpdateReport | None

    def to_map(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "slot": self.slot.value if self.slot else None,
            "on_trial": self.on_trial,
            "pico_version": self.pico_version,
            "minimum": str(self.minimum) if self.minimum else None,
            "last_update": self.last_update.to_map() if self.last_update else None,
        }

    @classmethod
    def from_map(cls, data: object) -> SoftwareStatus:
        with Fields(data, "the kit's software") as fields:
            return cls(
                version=fields.text("version", most=VERSION_TEXT),
                slot=fields.maybe("slot", lambda name: _choice(fields, name, Slot)),
                on_trial=fields.flag("on_trial"),
                pico_version=fields.maybe(
                    "pico_version", lambda name: fields.text(name, most=VERSION_TEXT)
                ),
                minimum=fields.maybe("minimum", lambda name: fields.converted(name, Version.parse)),
                last_update=fields.maybe(
                    "last_update", lambda name: fields.converted(name, UpdateReport.from_map)
                ),
            )


#: What a fuel gauge's figures may be on the wire: percent 0..100, cell millivolts up to
#: 10 V, charge rate in percent per hour either way.
BATTERY_MILLIVOLTS = 10_000
BATTERY_RATE = 1_000


@dataclass(frozen=True)
class BatteryStatus:
    """The battery as the kit's fuel gauge (MAX17048) reads it, in whole units."""

    #: State of charge, 0..100.
    percent: int
    #: Cell voltage in millivolts: a cell that no longer holds its voltage when full has aged.
    millivolts: int
    #: Percent per hour, negative while discharging: a fast drain at rest is a worn cell.
    rate: int

    def to_map(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_map(cls, data: object) -> BatteryStatus:
        with Fields(data, "the kit's battery") as fields:
            return cls(
                fields.whole("percent", low=0, high=100),
                fields.whole("millivolts", low=0, high=BATTERY_MILLIVOLTS),
                fields.whole("rate", low=-BATTERY_RATE, high=BATTERY_RATE),
            )


@dataclass(frozen=True)
class StatusResult:
    """What `jemput-prov status` shows: `storage.kit.KitStatus` as the kit sends it, the
    software it runs and its battery.  `collect` keeps this answer, signed, and `sync`
    carries it to the district's fleet table (docs/district.md)."""

    kit_id: str
    demo: bool
    sealed: int
    uncollected: int
    last_seq: int
    cards: dict[str, int]
    damaged: tuple[str, ...]
    #: Where the audit chain stops verifying ("entry N why"), or None when intact.
    audit_break: str | None
    journal_open: bool
    time: datetime
    software: SoftwareStatus
    #: The fuel gauge's reading; None when it does not answer (or the kit's release
    #: predates it: the field is then absent).
    battery: BatteryStatus | None
    #: The fields a status from an older kit lacks.
    ADDED_LATER: ClassVar[tuple[str, ...]] = ("battery",)

    def to_map(self) -> dict[str, Any]:
        return {
            **{
                field.name: getattr(self, field.name)
                for field in dataclasses.fields(self)
                if field.name not in ("time", "software", "battery")
            },
            "time": seconds(self.time),
            "software": self.software.to_map(),
            "battery": self.battery.to_map() if self.battery else None,
        }

    @classmethod
    def from_map(cls, data: object) -> StatusResult:
        with Fields(data, _answer(Op.STATUS)) as fields:
            damaged = fields.items("damaged", most=MAX_CHAIN)
            if not all(isinstance(name, str) for name in damaged):
                fields.fail("field 'damaged' must list record file names")
            return cls(
                kit_id=_kit_id(fields),
                demo=fields.flag("demo"),
                sealed=fields.whole("sealed", low=0, high=MAX_CHAIN),
                uncollected=fields.whole("uncollected", low=0, high=MAX_CHAIN),
                last_seq=fields.whole("last_seq", low=0, high=MAX_CHAIN),
                cards=_counts(fields, "cards"),
                damaged=tuple(damaged),
                audit_break=fields.maybe(
                    "audit_break", lambda name: fields.text(name, most=TEXT_MAX)
                ),
                journal_open=fields.flag("journal_open"),
                time=fields.moment("time"),
                software=fields.converted("software", SoftwareStatus.from_map),
                # absent from a kit of the release before, which collect still takes
                battery=fields.maybe(
                    "battery", lambda name: fields.converted(name, BatteryStatus.from_map)
                )
                if "battery" in fields.data
                else None,
            )


@dataclass(frozen=True)
class StatusArgs:
    op: ClassVar[Op] = Op.STATUS

    def to_map(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_map(cls, data: object) -> StatusArgs:
        with Fields(data, _REQUEST):
            return cls()

    read_result = staticmethod(StatusResult.from_map)


def kept_status(signed: bytes, *, kit_public: bytes) -> StatusResult:
    """A status answer the collector kept, its signature checked again and its fields read."""
    return StatusResult.from_map(kept_result(signed, op=Op.STATUS, kit_public=kit_public))


@dataclass(frozen=True)
class Verdict:
    """One device's self-test: ``detail`` is what it answered, ``check`` what to do if not ok."""

    device: str
    ok: bool
    detail: str
    check: str

    @classmethod
    def from_map(cls, data: object, where: str) -> Verdict:
        with Fields(data, where) as fields:
            return cls(
                fields.text("device", most=TEXT_MAX),
                fields.flag("ok"),
                fields.text("detail", most=TEXT_MAX, least=0),
                fields.text("check", most=TEXT_MAX, least=0),
            )


@dataclass(frozen=True)
class SelftestResult:
    verdicts: tuple[Verdict, ...]

    def to_map(self) -> dict[str, Any]:
        return {"verdicts": [dataclasses.asdict(verdict) for verdict in self.verdicts]}

    @classmethod
    def from_map(cls, data: object) -> SelftestResult:
        what = _answer(Op.SELFTEST)
        with Fields(data, what) as fields:
            verdicts = fields.items("verdicts", most=TEXT_MAX)
            return cls(
                tuple(
                    Verdict.from_map(verdict, f"{what}, verdict {index}")
                    for index, verdict in enumerate(verdicts)
                )
            )


@dataclass(frozen=True)
class SelftestArgs:
    op: ClassVar[Op] = Op.SELFTEST

    def to_map(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_map(cls, data: object) -> SelftestArgs:
        with Fields(data, _REQUEST):
            return cls()

    read_result = staticmethod(SelftestResult.from_map)


# -- collection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListResult:
    #: (seq, size in bytes) of each record the kit holds in the range asked, in order.
    records: tuple[tuple[int, int], ...]

    @property
    def sizes(self) -> dict[int, int]:
        return dict(self.records)

    def to_map(self) -> dict[str, Any]:
        return {"records": [list(row) for row in self.records]}

    @classmethod
    def from_map(cls, data: object) -> ListResult:
        with Fields(data, _answer(Op.LIST)) as fields:
            rows = _rows(fields, "records", (int, int), most=LIST_MAX)
            for seq, size in rows:
                if not 0 < seq <= SEQ_MAX or not 0 < size <= MAX_BYTES:
                    fields.fail(f"[{seq}, {size}] is not [seq, size of 1-{MAX_BYTES} bytes]")
            return cls(tuple((seq, size) for seq, size in rows))


@dataclass(frozen=True)
class ListArgs:
    """The records numbered ``first`` .. ``last`` that the kit holds (at most LIST_MAX)."""

    op: ClassVar[Op] = Op.LIST
    first: int
    last: int

    def to_map(self) -> dict[str, Any]:
        return {"from": self.first, "to": self.last}

    @classmethod
    def from_map(cls, data: object) -> ListArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(
                fields.whole("from", low=0, high=SEQ_MAX), fields.whole("to", low=0, high=SEQ_MAX)
            )

    read_result = staticmethod(ListResult.from_map)


@dataclass(frozen=True)
class GetResult:
    """Bytes ``offset`` .. of record ``seq``, whose file holds ``size`` bytes."""

    seq: int
    offset: int
    size: int
    data: bytes

    def to_map(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_map(cls, data: object) -> GetResult:
        with Fields(data, _answer(Op.GET)) as fields:
            return cls(
                fields.whole("seq", low=0, high=SEQ_MAX),
                fields.whole("offset", low=0, high=SEQ_MAX),
                fields.whole("size", low=1, high=MAX_BYTES),
                fields.raw("data", sizes=range(1, GET_MAX + 1)),
            )


@dataclass(frozen=True)
class GetArgs:
    """Up to ``length`` bytes of record ``seq`` from ``offset`` on."""

    op: ClassVar[Op] = Op.GET
    seq: int
    offset: int
    length: int

    def to_map(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_map(cls, data: object) -> GetArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(
                fields.whole("seq", low=0, high=SEQ_MAX),
                fields.whole("offset", low=0, high=SEQ_MAX),
                fields.whole("length", low=1, high=GET_MAX),
            )

    read_result = staticmethod(GetResult.from_map)


@dataclass(frozen=True)
class Head:
    """A kit's head: its last record's seq and SHA-256, or (0, None) before its first."""

    seq: int
    digest: bytes | None


@dataclass(frozen=True)
class AuditLine:
    """One entry of the kit's audit log as the ledger carries it (detail as JSON)."""

    entry_id: int
    at: str
    kind: str
    detail: str


@dataclass(frozen=True)
class LedgerResult:
    """The kit's signed head, card ledger and audit log: what a collection starts from."""

    kit_id: str
    head: Head
    #: The card ledger's counts: loaded, printed, spoiled, unresolved, stock.
    cards: dict[str, int]
    #: (record seq, card serial) of every card printed.
    printed: tuple[tuple[int, str], ...]
    audit: tuple[AuditLine, ...]
    audit_intact: bool
    at: datetime
    #: The serial ranges the kit holds, and (record seq, serial) of every card spoiled and
    #: of every print whose outcome the kit does not know: with ``printed``, where each
    #: serial the district handed the kit went.  A ledger signed before kits held ranges
    #: has none of these fields: they read as empty.
    ranges: tuple[SerialRange, ...] = ()
    spoiled: tuple[tuple[int, str], ...] = ()
    begun: tuple[tuple[int, str], ...] = ()
    #: What the kit recorded of the office's handover batches (`storage.handover`).
    handovers: tuple[HandoverEvent, ...] = ()
    #: The fields a ledger signed by an older kit lacks.
    ADDED_LATER: ClassVar[tuple[str, ...]] = ("ranges", "spoiled", "begun", "handovers")

    def to_map(self) -> dict[str, Any]:
        return {
            "kit_id": self.kit_id,
            "head": [self.head.seq, self.head.digest],
            "cards": self.cards,
            "printed": [list(card) for card in self.printed],
            "audit": [[a.entry_id, a.at, a.kind, a.detail] for a in self.audit],
            "audit_intact": self.audit_intact,
            "at": seconds(self.at),
            "ranges": [held.to_list() for held in self.ranges],
            "spoiled": [list(card) for card in self.spoiled],
            "begun": [list(card) for card in self.begun],
            "handovers": [event.to_list() for event in self.handovers],
        }

    @classmethod
    def from_map(cls, data: object) -> LedgerResult:
        with Fields(data, _answer(Op.LEDGER)) as fields:
            printed = _rows(fields, "printed", (int, str), most=MAX_FRAME)
            audit = _rows(fields, "audit", (int, str, str, str), most=MAX_FRAME)
            return cls(
                kit_id=_kit_id(fields),
                head=_head(fields),
                cards=_counts(fields, "cards"),
                printed=_cards(printed),
                audit=tuple(AuditLine(*line) for line in audit),
                audit_intact=fields.flag("audit_intact"),
                at=fields.moment("at"),
                ranges=_ranges(fields, "ranges") if fields.present("ranges") else (),
                spoiled=_added_cards(fields, "spoiled"),
                begun=_added_cards(fields, "begun"),
                handovers=_handovers(fields) if fields.present("handovers") else (),
            )


def _handovers(fields: Fields) -> tuple[HandoverEvent, ...]:
    try:
        return tuple(
            HandoverEvent.from_list(event) for event in fields.items("handovers", most=MAX_FRAME)
        )
    except BadHandover as exc:
        fields.fail(f"field 'handovers': {exc}")


def _cards(rows: list[Sequence[Any]]) -> tuple[tuple[int, str], ...]:
    return tuple((seq, serial) for seq, serial in rows)


def _added_cards(fields: Fields, name: str) -> tuple[tuple[int, str], ...]:
    """[[seq, serial], ...] of a field added after ledgers were signed without it."""
    if not fields.present(name):
        return ()
    return _cards(_rows(fields, name, (int, str), most=MAX_FRAME))


def _head(fields: Fields) -> Head:
    """[seq, SHA-256] with seq 1..MAX_CHAIN, or [0, None] before the first record."""
    head = fields.value("head")
    if not isinstance(head, list | tuple) or len(head) != 2:
        fields.fail(f"no [seq, hash] head but {head!r:.60}")
    seq, digest = head
    if type(seq) is not int or not 0 <= seq <= MAX_CHAIN:
        fields.fail(f"head seq {seq!r:.40} is not 0-{MAX_CHAIN}")
    if (seq == 0 and digest is not None) or (
        seq and not (isinstance(digest, bytes) and len(digest) == DIGEST_BYTES)
    ):
        fields.fail(f"head {seq} has no {DIGEST_BYTES}-byte hash")
    return Head(seq, digest)


@dataclass(frozen=True)
class LedgerArgs:
    op: ClassVar[Op] = Op.LEDGER

    def to_map(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_map(cls, data: object) -> LedgerArgs:
        with Fields(data, _REQUEST):
            return cls()

    read_result = staticmethod(LedgerResult.from_map)


def kept_ledger(signed: bytes, *, kit_public: bytes) -> LedgerResult:
    """A ledger answer the collector kept, its signature checked again and its fields read."""
    return LedgerResult.from_map(kept_result(signed, op=Op.LEDGER, kit_public=kit_public))


@dataclass(frozen=True)
class ReceiptResult:
    #: The seq the receipt covers, and the records the kit still holds uncollected.
    collected: int
    uncollected: int

    def to_map(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_map(cls, data: object) -> ReceiptResult:
        with Fields(data, _answer(Op.RECEIPT)) as fields:
            return cls(
                fields.whole("collected", low=0, high=MAX_CHAIN),
                fields.whole("uncollected", low=0, high=MAX_CHAIN),
            )


@dataclass(frozen=True)
class ReceiptArgs:
    """A collector's receipt (`storage.receipt.make_receipt`): the kit may free what it covers."""

    op: ClassVar[Op] = Op.RECEIPT
    receipt: bytes

    def to_map(self) -> dict[str, Any]:
        return {"receipt": self.receipt}

    @classmethod
    def from_map(cls, data: object) -> ReceiptArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(fields.raw("receipt", sizes=SIGNED_BYTES))

    read_result = staticmethod(ReceiptResult.from_map)


@dataclass(frozen=True)
class PurgeResult:
    purged: bool

    def to_map(self) -> dict[str, Any]:
        return {"purged": self.purged}

    @classmethod
    def from_map(cls, data: object) -> PurgeResult:
        with Fields(data, _answer(Op.PURGE)) as fields:
            return cls(fields.flag("purged"))


@dataclass(frozen=True)
class PurgeArgs:
    op: ClassVar[Op] = Op.PURGE

    def to_map(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_map(cls, data: object) -> PurgeArgs:
        with Fields(data, _REQUEST):
            return cls()

    read_result = staticmethod(PurgeResult.from_map)


# -- the handover of printed cards -----------------------------------------------------------


@dataclass(frozen=True)
class HandoverKeyResult:
    """An X25519 public key the kit made for one handover transfer (its private half stays
    in the kit's memory); the answer's signature says it is this kit's."""

    public: bytes

    def to_map(self) -> dict[str, Any]:
        return {"public": self.public}

    @classmethod
    def from_map(cls, data: object) -> HandoverKeyResult:
        with Fields(data, _answer(Op.HANDOVER_KEY)) as fields:
            return cls(fields.raw("public", sizes=(X25519_BYTES,)))


@dataclass(frozen=True)
class HandoverKeyArgs:
    op: ClassVar[Op] = Op.HANDOVER_KEY

    def to_map(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_map(cls, data: object) -> HandoverKeyArgs:
        with Fields(data, _REQUEST):
            return cls()

    read_result = staticmethod(HandoverKeyResult.from_map)


@dataclass(frozen=True)
class HandoverResult:
    #: The batch the kit now holds, and how many of its cards.
    batch: str
    cards: int

    def to_map(self) -> dict[str, Any]:
        return {"batch": self.batch, "cards": self.cards}

    @classmethod
    def from_map(cls, data: object) -> HandoverResult:
        with Fields(data, _answer(Op.HANDOVER)) as fields:
            return cls(fields.text("batch", most=TEXT_MAX), _count(fields, "cards"))


@dataclass(frozen=True)
class HandoverArgs:
    """A batch of printed cards (`storage.handover.seal_batch`), encrypted to the key the
    kit's last ``handover-key`` answered; the request's signature is the authority's."""

    op: ClassVar[Op] = Op.HANDOVER
    sealed: bytes

    def to_map(self) -> dict[str, Any]:
        return {"sealed": self.sealed}

    @classmethod
    def from_map(cls, data: object) -> HandoverArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(fields.raw("sealed", sizes=SIGNED_BYTES))

    read_result = staticmethod(HandoverResult.from_map)


# -- software updates ------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdatePartResult:
    #: Bytes of the bundle the kit holds in this transfer, this part included.
    received: int

    def to_map(self) -> dict[str, Any]:
        return {"received": self.received}

    @classmethod
    def from_map(cls, data: object) -> UpdatePartResult:
        with Fields(data, _answer(Op.UPDATE_PART)) as fields:
            return cls(fields.whole("received", low=0, high=MAX_BUNDLE))


@dataclass(frozen=True)
class UpdatePartArgs:
    """Bytes ``offset`` .. of the release bundle sent under ``transfer`` (a new id starts over)."""

    op: ClassVar[Op] = Op.UPDATE_PART
    transfer: bytes
    offset: int
    data: bytes

    def to_map(self) -> dict[str, Any]:
        return {"transfer": self.transfer, "offset": self.offset, "data": self.data}

    @classmethod
    def from_map(cls, data: object) -> UpdatePartArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(
                _transfer(fields),
                fields.whole("offset", low=0, high=MAX_BUNDLE - 1),
                fields.raw("data", sizes=range(1, CHUNK + 1)),
            )

    read_result = staticmethod(UpdatePartResult.from_map)


@dataclass(frozen=True)
class UpdateResult:
    """The release installed into ``slot``; the kit restarts into it, on trial."""

    version: str
    slot: Slot
    pico_version: str | None
    restarting: bool

    def to_map(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "slot": self.slot.value,
            "pico_version": self.pico_version,
            "restarting": self.restarting,
        }

    @classmethod
    def from_map(cls, data: object) -> UpdateResult:
        with Fields(data, _answer(Op.UPDATE)) as fields:
            return cls(
                fields.text("version", most=VERSION_TEXT),
                _choice(fields, "slot", Slot),
                fields.maybe("pico_version", lambda name: fields.text(name, most=VERSION_TEXT)),
                fields.flag("restarting"),
            )


@dataclass(frozen=True)
class UpdateArgs:
    """Install the bundle transfer ``transfer`` staged (``size`` bytes, ``sha256``).

    ``minimum`` and ``pico_minimum`` are the lowest versions the authority allows from now
    on (the request is the authority's signature on them); a kit never lowers the ones it
    holds.
    """

    op: ClassVar[Op] = Op.UPDATE
    transfer: bytes
    size: int
    sha256: bytes
    minimum: Version | None
    pico_minimum: Version | None

    def to_map(self) -> dict[str, Any]:
        return {
            "transfer": self.transfer,
            "size": self.size,
            "sha256": self.sha256,
            "minimum": str(self.minimum) if self.minimum else None,
            "pico_minimum": str(self.pico_minimum) if self.pico_minimum else None,
        }

    @classmethod
    def from_map(cls, data: object) -> UpdateArgs:
        with Fields(data, _REQUEST) as fields:
            return cls(
                _transfer(fields),
                fields.whole("size", low=1, high=MAX_BUNDLE),
                _digest(fields, "sha256"),
                fields.maybe("minimum", lambda name: fields.converted(name, Version.parse)),
                fields.maybe("pico_minimum", lambda name: fields.converted(name, Version.parse)),
            )

    read_result = staticmethod(UpdateResult.from_map)


# -- the kit's side: from an op to its typed arguments ---------------------------------------

KitArgs = (
    KeygenArgs
    | FlashArgs
    | WorklistPartArgs
    | WorklistCommitArgs
    | RoundArgs
    | SetTimeArgs
    | StatusArgs
    | SelftestArgs
    | ListArgs
    | GetArgs
    | LedgerArgs
    | ReceiptArgs
    | PurgeArgs
    | HandoverKeyArgs
    | HandoverArgs
    | UpdatePartArgs
    | UpdateArgs
)
#: Every signed op's arguments, by op: what the kit reads a verified request's map with.
ARGS: dict[Op, type[KitArgs]] = {
    args.op: args
    for args in (
        KeygenArgs,
        FlashArgs,
        WorklistPartArgs,
        WorklistCommitArgs,
        RoundArgs,
        SetTimeArgs,
        StatusArgs,
        SelftestArgs,
        ListArgs,
        GetArgs,
        LedgerArgs,
        ReceiptArgs,
        PurgeArgs,
        HandoverKeyArgs,
        HandoverArgs,
        UpdatePartArgs,
        UpdateArgs,
    )
}


def read_args(op: Op, data: Mapping[str, Any]) -> KitArgs:
    """The typed arguments of a signed ``op``; MessageError naming the field that is wrong."""
    if op not in ARGS:
        raise MessageError(f"{op} takes no signed arguments")
    return ARGS[op].from_map(data)
