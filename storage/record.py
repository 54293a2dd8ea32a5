"""One sealed record per enrolled person: a signed cleartext header around an encrypted body.

Why this split: the collector must verify and count records (who, when, what was
captured or excepted, the chain) without seeing biometrics, and a stolen kit or SD card
must yield none.  So the header is signed by the kit, and the body inside it is encrypted
to the authority, with the kit id and seq bound in twice: in the AEAD's external_aad
(checked when the body is opened) and in the body's protected header (checkable by anyone).
The layout is documented in docs/record-format.md.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from storage.codec import Tampered, dumps, loads
from storage.cose import (
    HDR_CONTENT_TYPE,
    DecryptError,
    Rng,
    Sign1,
    decrypt,
    encrypt,
    parse_encrypt,
    parse_sign1,
    sign1,
)
from storage.errors import RecordError
from storage.keys import Authority, AuthorityPublic, KitSigner
from storage.model import (
    CardKind,
    CorrectableField,
    Correction,
    Domicile,
    Enrolment,
    FingerRecord,
    FlaggedError,
    FlagReason,
    FreeTextField,
    Modality,
    RoundStamp,
    SignatureException,
    SignatureExceptionReason,
)
from storage.profile import resident_from_map, resident_to_map
from storage.reference import REF_BYTES, ReferenceKey
from vocabulary.purpose import Purpose
from vocabulary.rounds import Assist, Disability, Group, VenueKind

RECORD_VERSION = 4
#: Versions this code reads: version 1 (before the kind, purpose and official), version 2
#: (before the keyed reference) and version 3 (before rounds, groups and the notice) still
#: verify.
READABLE_VERSIONS = (1, 2, 3, 4)
#: The notice of processing the kit reads aloud before capture (its words are
#: `capture.prompts`' ``notice.*``): numbered, so a record says which words were read.  A
#: new wording gets the next number; a header naming a number this code does not know
#: does not verify.
NOTICE_VERSION = 1
CONTENT_TYPE = "application/jemput-record+cbor"
AAD_CONTEXT = "jemput-record"
HASH_BYTES = 32

#: Header map keys of version 1 and the Python types their values must have.
V1_HEADER_TYPES: dict[str, Any] = {
    "v": int,
    "kit": str,
    "seq": int,
    "prev": bytes,
    "at": int,
    "officer": str,
    "worklist": (str, type(None)),
    "captured": (list, tuple),
    "excepted": (list, tuple),
    "print": bool,
    "voids": (int, type(None)),
    "walk_in": bool,
    "body": object,
}
#: What version 2 adds to the header: facts the collector counts without opening the body.
V2_HEADER_ADDS: dict[str, Any] = {
    "kind": str,
    "purpose": str,
    "official": (str, type(None)),
    "domicile": bool,
    "corrected": (list, tuple),
    "flagged": (list, tuple),
    "sig_exc": bool,
    "early": bool,
}
_V2_HEADER_TYPES = V1_HEADER_TYPES | V2_HEADER_ADDS
#: Version 3 names the resident by a keyed reference ("ref", `storage.reference`) instead
#: of the plain worklist reference, which is a NIK by default.
V3_HEADER_TYPES: dict[str, Any] = {
    **{key: kind for key, kind in _V2_HEADER_TYPES.items() if key != "worklist"},
    "ref": (bytes, type(None)),
}
#: What version 4 adds to the header: the round (its code and venue kind), the groups the
#: person counts in, and the notice of processing (which words; heard by a guardian).
V4_HEADER_ADDS: dict[str, Any] = {
    "round": (str, type(None)),
    "venue": (str, type(None)),
    "groups": (list, tuple),
    "notice": (int, type(None)),
    "guardian": bool,
}
V4_HEADER_TYPES = V3_HEADER_TYPES | V4_HEADER_ADDS
_HEADER_TYPES = {1: V1_HEADER_TYPES, 2: _V2_HEADER_TYPES, 3: V3_HEADER_TYPES, 4: V4_HEADER_TYPES}
#: What version 2 adds to the body: the values behind the header's flags.
V2_BODY_KEYS = ("corrections", "domicile", "sig_exc", "card_from")
#: What version 4 adds to the body: who spoke for the person, a child's guardian or an
#: adult's companion (a name: personal, so never in the header), the disability declared,
#: how the flow was adapted.
V4_BODY_KEYS = ("guardian", "disability", "assist")


class UnsupportedVersion(RecordError):
    """A record in a format version this code does not know: upgrade the tool."""


class BodyMismatch(RecordError):
    """An encrypted body that belongs to another record, or says other than its header."""


class WrongRecipient(RecordError):
    """A body encrypted to another authority's key: it cannot be opened here."""


@dataclass(frozen=True)
class RecordHeader:
    """The signed cleartext of a record: what a collector may see without the private key."""

    version: int
    kit_id: str
    seq: int
    prev: bytes
    sealed_at: datetime
    officer_id: str
    #: The plain worklist reference (a NIK by default): versions 1 and 2 only.
    worklist_ref: str | None
    captured: tuple[Modality, ...]
    excepted: tuple[int, ...]
    print_card: bool
    voids: int | None
    walk_in: bool
    kind: CardKind = CardKind.EKTP
    purpose: Purpose = Purpose.BARU
    official_id: str | None = None
    domicile: bool = False
    corrected: tuple[CorrectableField, ...] = ()
    flagged: tuple[FlaggedError, ...] = ()
    signature_excepted: bool = False
    early: bool = False
    #: HMAC-SHA256 of the worklist reference under the authority's reference key: version 3.
    keyed_ref: bytes | None = None
    #: The round the record was made on (version 4; None: no round was loaded).
    round: RoundStamp | None = None
    #: The groups the person counts in (version 4; none for older versions, which say nothing).
    groups: tuple[Group, ...] = ()
    #: The version of the notice of processing read before capture (version 4; None: a void).
    notice: int | None = None
    #: Someone spoke for the person, their name in the body: a child's parent or guardian,
    #: who heard the notice, or an adult's companion (`Enrolment.companion`).
    guardian: bool = False

    @property
    def reference(self) -> str | None:
        """How the header names its resident, as text: the keyed reference in hex (v3), or
        the plain worklist reference (v1, v2); what a collector's column holds."""
        return self.keyed_ref.hex() if self.keyed_ref is not None else self.worklist_ref


@dataclass(frozen=True)
class ParsedRecord:
    """A record decoded strictly, signature not yet checked; ``body`` is its COSE_Encrypt."""

    sign1: Sign1
    header: RecordHeader
    body: Any


def record_hash(data: bytes) -> bytes:
    """SHA-256 of the record's stored bytes: what the next record's ``prev`` must be."""
    return hashlib.sha256(data).digest()


def external_aad(kit_id: str, seq: int) -> bytes:
    return dumps([AAD_CONTEXT, kit_id, seq])


def body_map(enrolment: Enrolment) -> dict[str, Any]:
    """The plaintext of a version-2 body (version 1 is this without `V2_BODY_KEYS`)."""
    domicile, exception = enrolment.domicile, enrolment.signature_exception
    body: dict[str, Any] = {
        "resident": resident_to_map(enrolment.resident),
        "started_at": enrolment.started_at.isoformat(),
        "face": enrolment.face_jpeg,
        "fingers": [_finger_map(f) for f in enrolment.fingers],
        "strokes": [[list(point) for point in stroke] for stroke in enrolment.signature_strokes],
        "signature": enrolment.signature_png,
        "void_reason": enrolment.void_reason,
        "approvals": list(enrolment.approvals),
        "corrections": [
            {"field": c.field.value, "from": c.original, "to": c.new, "by": c.approved_by}
            for c in enrolment.corrections
        ],
        "domicile": (
            None if domicile is None else {"kk": domicile.kk_number, "home": domicile.home_regency}
        ),
        "sig_exc": (
            None
            if exception is None
            else {"reason": exception.reason.value, "by": exception.approved_by}
        ),
        "card_from": None if enrolment.card_from is None else enrolment.card_from.isoformat(),
    }
    # the capture's quality and duplicate findings, only when there are any, so a body
    # without them is byte for byte the body sealed before the measures (tests/vectors)
    if enrolment.face_quality:
        body["face_quality"] = dict(enrolment.face_quality)
    if enrolment.duplicates_approved:
        body["duplicates_approved"] = [list(pair) for pair in enrolment.duplicates_approved]
    return body


def header_map(
    enrolment: Enrolment,
    *,
    kit_id: str,
    seq: int,
    prev_hash: bytes,
    sealed_at: datetime,
    body: Any,
    keyed_ref: bytes | None,
) -> dict[str, Any]:
    """The signed cleartext of a version-4 record around its encrypted ``body``.

    ``keyed_ref`` is the resident's keyed reference (`ReferenceKey.keyed` of the worklist
    reference, None for a record without one): the header never holds the plain one.
    """
    return {
        "v": RECORD_VERSION,
        "kit": kit_id,
        "seq": seq,
        "prev": prev_hash,
        "at": int(sealed_at.timestamp()),
        "officer": enrolment.officer_id,
        "ref": keyed_ref,
        "captured": [m.value for m in enrolment.captured],
        "excepted": list(enrolment.excepted_fingers),
        "print": enrolment.print_card,
        "voids": enrolment.voids,
        "walk_in": enrolment.walk_in,
        "kind": enrolment.kind.value,
        "purpose": enrolment.purpose.value,
        "official": enrolment.official_id,
        "domicile": enrolment.domicile is not None,
        "corrected": [c.field.value for c in enrolment.corrections],
        "flagged": [[f.field.value, f.reason.value] for f in enrolment.flagged],
        "sig_exc": enrolment.signature_exception is not None,
        "early": enrolment.card_from is not None,
        "round": None if enrolment.round is None else enrolment.round.code,
        "venue": None if enrolment.round is None else enrolment.round.venue.value,
        "groups": [group.value for group in enrolment.groups],
        "notice": enrolment.notice,
        "guardian": enrolment.guardian is not None,
        "body": body,
    }


def v4_body_adds(enrolment: Enrolment) -> dict[str, Any]:
    """What a version-4 body holds beyond a version-3 one (`V4_BODY_KEYS`)."""
    return {
        "guardian": enrolment.guardian,
        "disability": None if enrolment.disability is None else enrolment.disability.value,
        "assist": [assist.value for assist in enrolment.assists],
    }


def _finger_map(finger: FingerRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pos": finger.position,
        "png": finger.image_png,
        "tpl": finger.template,
        "q": finger.quality,
        "exc": finger.exception,
        "by": finger.approved_by,
    }
    if finger.forced:
        item["forced"] = True
    if finger.scores:
        item["scores"] = dict(finger.scores)
    return item


def seal_record(
    enrolment: Enrolment,
    *,
    kit_id: str,
    seq: int,
    prev_hash: bytes,
    sealed_at: datetime,
    kit_key: KitSigner,
    authority: AuthorityPublic,
    reference_key: ReferenceKey,
    rng: Rng = os.urandom,
) -> bytes:
    """Encrypt the body to the authority and sign the header; ``sealed_at`` keeps whole seconds.

    The header names the resident by the keyed reference under ``reference_key``.
    """
    if seq < 1 or len(prev_hash) != HASH_BYTES or sealed_at.tzinfo is None:
        raise ValueError("seal_record needs seq >= 1, a 32-byte prev_hash and an aware sealed_at")
    body = encrypt(
        dumps(body_map(enrolment) | v4_body_adds(enrolment)),
        authority.enc_public,
        external_aad=external_aad(kit_id, seq),
        rng=rng,
        protected={"kit": kit_id, "seq": seq},
        kid=authority.enc_kid,
    )
    ref = enrolment.resident.worklist_ref
    header = header_map(
        enrolment,
        kit_id=kit_id,
        seq=seq,
        prev_hash=prev_hash,
        sealed_at=sealed_at,
        body=body,
        keyed_ref=None if ref is None else reference_key.keyed(ref),
    )
    return sign1(dumps(header), kit_key, kid=kit_key.kid, content_type=CONTENT_TYPE)


def _header(fields: Any) -> RecordHeader:
    if not isinstance(fields, Mapping):
        raise Tampered("record payload is not a map")
    version = fields.get("v")
    seq = fields.get("seq") if isinstance(fields.get("seq"), int) else None
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise UnsupportedVersion(
            f"record format version {version!r}; this tool reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}: upgrade jemput",
            seq=seq,
        )
    types = _HEADER_TYPES[version]
    if set(fields) != set(types):
        raise Tampered(f"record header keys {sorted(map(str, fields))} are not those of v{version}")
    for key, kind in types.items():
        value = fields[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Tampered(f"record header {key!r} has type {type(value).__name__}")
    seq = fields["seq"]
    try:
        if seq < 1 or len(fields["prev"]) != HASH_BYTES:
            raise ValueError(f"seq {seq} or prev hash of {len(fields['prev'])} bytes")
        excepted = tuple(fields["excepted"])
        if not all(type(position) is int for position in excepted):
            raise ValueError("excepted fingers are not all integers")
        keyed_ref = fields.get("ref")
        if keyed_ref is not None and len(keyed_ref) != REF_BYTES:
            raise ValueError(f"keyed reference of {len(keyed_ref)} bytes, not {REF_BYTES}")
        v1 = RecordHeader(
            version=version,
            kit_id=fields["kit"],
            seq=seq,
            prev=fields["prev"],
            sealed_at=datetime.fromtimestamp(fields["at"], UTC),
            officer_id=fields["officer"],
            worklist_ref=fields.get("worklist"),
            captured=tuple(Modality(value) for value in fields["captured"]),
            excepted=excepted,
            print_card=fields["print"],
            voids=fields["voids"],
            walk_in=fields["walk_in"],
        )
        if version == 1:
            return v1
        v2 = _v2_header(v1, fields, keyed_ref)
        return v2 if version < 4 else _v4_header(v2, fields)
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise Tampered(f"record header does not make sense: {exc}", seq=seq) from exc


def _v2_header(
    v1: RecordHeader, fields: Mapping[str, Any], keyed_ref: bytes | None
) -> RecordHeader:
    """The version-1 facts and what version 2 (and 3's keyed reference) add; a value
    outside its list is a ValueError."""
    flagged = []
    for pair in fields["flagged"]:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"flagged entry {pair!r} is not a [field, reason] pair")
        flagged.append(FlaggedError(FreeTextField(pair[0]), FlagReason(pair[1])))
    return replace(
        v1,
        kind=CardKind(fields["kind"]),
        purpose=Purpose(fields["purpose"]),
        official_id=fields["official"],
        domicile=fields["domicile"],
        corrected=tuple(CorrectableField(name) for name in fields["corrected"]),
        flagged=tuple(flagged),
        signature_excepted=fields["sig_exc"],
        early=fields["early"],
        keyed_ref=keyed_ref,
    )


def _v4_header(v2: RecordHeader, fields: Mapping[str, Any]) -> RecordHeader:
    """The version-3 facts and version 4's round, groups and notice; a value outside its
    list, a group out of order, or groups that contradict the header's own card and
    domicile are a ValueError."""
    code, venue = fields["round"], fields["venue"]
    if (code is None) != (venue is None):
        raise ValueError("a round code without its venue kind, or a venue kind without a round")
    stamp = None if code is None else RoundStamp(code, VenueKind(venue))
    groups = tuple(Group(name) for name in fields["groups"])
    if list(groups) != [group for group in Group if group in groups]:
        raise ValueError(f"groups {fields['groups']!r} are repeated or out of order")
    if (Group.KIA in groups) != (v2.kind is CardKind.KIA and v2.voids is None):
        raise ValueError(f"groups {fields['groups']!r} disagree with the card {v2.kind.value}")
    if (Group.DOMISILI in groups) != (v2.domicile and v2.voids is None):
        raise ValueError(f"groups {fields['groups']!r} disagree with the domicile flag")
    notice = fields["notice"]
    if notice is not None and (type(notice) is not int or not 1 <= notice <= NOTICE_VERSION):
        raise ValueError(f"notice {notice!r} is not a notice this tool knows (1-{NOTICE_VERSION})")
    if v2.voids is not None and (groups or notice is not None):
        raise ValueError("a void names no person: it has no groups and no notice")
    if fields["guardian"] and notice is None:
        raise ValueError("a guardian heard a notice that was not given")
    return replace(v2, round=stamp, groups=groups, notice=notice, guardian=fields["guardian"])


def parse_sign1_record(data: bytes) -> Sign1:
    """The record's COSE_Sign1, strictly decoded: the first step of every check."""
    msg = parse_sign1(data)
    if msg.unprotected:
        raise Tampered("record has unprotected header fields; records carry none")
    if msg.protected.get(HDR_CONTENT_TYPE) != CONTENT_TYPE:
        raise Tampered(f"signed object is not a record: content type {CONTENT_TYPE!r} missing")
    return msg


def parse_payload(msg: Sign1) -> ParsedRecord:
    """The header and body of a record's COSE_Sign1 (whose signature the caller checks)."""
    fields = loads(msg.payload)
    header = _header(fields)
    return ParsedRecord(sign1=msg, header=header, body=fields["body"])


def parse_record(data: bytes) -> ParsedRecord:
    """Decode a record strictly (COSE_Sign1 and header), without checking its signature."""
    return parse_payload(parse_sign1_record(data))


def read_header(data: bytes) -> RecordHeader:
    """The header of a record, structure only: strict decode, no signature check."""
    return parse_record(data).header


def check_body_binding(record: ParsedRecord, authority: AuthorityPublic) -> None:
    """What anyone can check of the body without the private key: its labels and recipient.

    The AEAD tag that makes the labels binding can only be checked by `open_record`.
    """
    header = record.header
    try:
        body = parse_encrypt(record.body)
    except Tampered as exc:
        raise Tampered(f"record {header.seq}: {exc}", seq=header.seq) from exc
    bound = (body.protected.get("kit"), body.protected.get("seq"))
    if bound != (header.kit_id, header.seq):
        raise BodyMismatch(
            f"record {header.seq} of kit {header.kit_id} carries the body of record "
            f"{bound[1]!r} of kit {bound[0]!r}",
            seq=header.seq,
        )
    if body.recipient_kid != authority.enc_kid:
        kid = body.recipient_kid.hex() if body.recipient_kid else "none"
        raise WrongRecipient(
            f"record {header.seq} is encrypted to key {kid}, not to authority "
            f"{authority.name!r} ({authority.enc_kid.hex()})",
            seq=header.seq,
        )


def _finger(item: Mapping[str, Any]) -> FingerRecord:
    return FingerRecord(
        position=item["pos"],
        image_png=item["png"],
        template=item["tpl"],
        quality=item["q"],
        exception=item["exc"],
        approved_by=item["by"],
        # bodies sealed before the quality measures carry neither key
        forced=bool(item.get("forced", False)),
        scores=dict(item.get("scores", {})),
    )


def _typed(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise TypeError(f"{what} is {type(value).__name__}, not {kind.__name__}")
    return value


def _correction(item: Any) -> Correction:
    if not isinstance(item, Mapping) or set(item) != {"field", "from", "to", "by"}:
        raise ValueError(f"correction {item!r} is not a map of field, from, to, by")
    return Correction(
        CorrectableField(_typed(item["field"], str, "correction field")),
        _typed(item["from"], str, "correction original"),
        _typed(item["to"], str, "correction value"),
        _typed(item["by"], str, "correction approver"),
    )


def _domicile(item: Any) -> Domicile | None:
    if item is None:
        return None
    if not isinstance(item, Mapping) or set(item) != {"kk", "home"}:
        raise ValueError("domicile is not a map of kk and home")
    return Domicile(_typed(item["kk"], str, "KK number"), _typed(item["home"], str, "home"))


def _signature_exception(item: Any) -> SignatureException | None:
    if item is None:
        return None
    if not isinstance(item, Mapping) or set(item) != {"reason", "by"}:
        raise ValueError("signature exception is not a map of reason and by")
    return SignatureException(
        SignatureExceptionReason(_typed(item["reason"], str, "signature exception reason")),
        _typed(item["by"], str, "signature exception approver"),
    )


def _v4_body(header: RecordHeader, body: Mapping[str, Any]) -> dict[str, Any]:
    """The `Enrolment` fields of a body's version-4 keys (none before version 4)."""
    if header.version < 4:
        if set(V4_BODY_KEYS) & set(body):
            raise ValueError(f"a version-{header.version} body carries version-4 keys")
        return {}
    guardian, disability, assists = body["guardian"], body["disability"], body["assist"]
    if guardian is not None and not _typed(guardian, str, "guardian").strip():
        raise ValueError("the guardian's name is empty")
    if not isinstance(assists, list) or len(set(assists)) != len(assists):
        raise ValueError(f"assist {assists!r:.60} is not a list of distinct adaptations")
    return {
        "round": header.round,
        "groups": header.groups,
        "notice": header.notice,
        "guardian": guardian,
        "disability": None
        if disability is None
        else Disability(_typed(disability, str, "disability")),
        "assists": tuple(Assist(_typed(item, str, "assist")) for item in assists),
    }


def _v2_body(header: RecordHeader, body: Mapping[str, Any]) -> dict[str, Any]:
    """The `Enrolment` fields of a body's version-2 keys (none for a version-1 body)."""
    if header.version == 1:
        if set(V2_BODY_KEYS) & set(body):
            raise ValueError("a version-1 body carries version-2 keys")
        return {}
    card_from = body["card_from"]
    corrections = body["corrections"]
    if not isinstance(corrections, list):
        raise TypeError("corrections is not a list")
    return {
        "kind": header.kind,
        "purpose": header.purpose,
        "official_id": header.official_id,
        "flagged": header.flagged,
        "corrections": tuple(_correction(item) for item in corrections),
        "domicile": _domicile(body["domicile"]),
        "signature_exception": _signature_exception(body["sig_exc"]),
        "card_from": None
        if card_from is None
        else date.fromisoformat(_typed(card_from, str, "card_from")),
    }


def _enrolment(header: RecordHeader, body: Mapping[str, Any]) -> Enrolment:
    return Enrolment(
        resident=resident_from_map(body["resident"]),
        officer_id=header.officer_id,
        started_at=datetime.fromisoformat(body["started_at"]),
        face_jpeg=body["face"],
        face_quality=dict(body.get("face_quality", {})),
        fingers=tuple(_finger(item) for item in body["fingers"]),
        signature_strokes=tuple(tuple((x, y) for x, y in stroke) for stroke in body["strokes"]),
        signature_png=body["signature"],
        print_card=header.print_card,
        walk_in=header.walk_in,
        voids=header.voids,
        void_reason=body["void_reason"],
        approvals=tuple(body["approvals"]),
        duplicates_approved=tuple(
            (int(seq), str(by)) for seq, by in body.get("duplicates_approved", [])
        ),
        **_v2_body(header, body),
        **_v4_body(header, body),
    )


def _names_other(enrolment: Enrolment, header: RecordHeader, key: ReferenceKey | None) -> bool:
    """Whether the body's worklist reference is not the one the header names.

    A version-3 header holds only the keyed reference: without the authority's reference
    key, only whether there is one can be compared.
    """
    ref = enrolment.resident.worklist_ref
    if header.version < 3:
        return ref != header.worklist_ref
    if key is None or ref is None:
        return (ref is None) != (header.keyed_ref is None)
    return key.keyed(ref) != header.keyed_ref


def _disagrees(enrolment: Enrolment, header: RecordHeader, key: ReferenceKey | None) -> bool:
    """Whether an opened body says other than its signed header."""
    return (
        enrolment.captured != header.captured
        or enrolment.excepted_fingers != header.excepted
        or _names_other(enrolment, header, key)
        or tuple(c.field for c in enrolment.corrections) != header.corrected
        or (enrolment.domicile is not None) != header.domicile
        or (enrolment.signature_exception is not None) != header.signature_excepted
        or (enrolment.card_from is not None) != header.early
        or (enrolment.guardian is not None) != header.guardian
        or (enrolment.disability is not None) != (Group.DISABILITAS in header.groups)
    )


def open_record(
    data: bytes, authority: Authority, reference_key: ReferenceKey | None = None
) -> Enrolment:
    """Decrypt a record's body back into the `Enrolment` it sealed.

    With the authority's ``reference_key``, a version-3 header's keyed reference must be
    that of the body's worklist reference; without it, only that both have one or neither.

    Checks structure and the body's binding, not the kit's signature: run
    `storage.verify.Verifier` first.  A body that opens but disagrees with its header
    (captured, excepted, worklist reference) is a `BodyMismatch`.
    """
    record = parse_record(data)
    header = record.header
    check_body_binding(record, authority.public)
    try:
        plaintext = decrypt(
            record.body, authority.decrypt_key, external_aad=external_aad(header.kit_id, header.seq)
        )
    except DecryptError as exc:
        raise BodyMismatch(
            f"body of record {header.seq} of kit {header.kit_id} does not open: it was "
            "altered or sealed for another record",
            seq=header.seq,
        ) from exc
    try:
        enrolment = _enrolment(header, loads(plaintext))
    except (KeyError, TypeError, ValueError) as exc:
        raise Tampered(f"body of record {header.seq} is malformed: {exc}", seq=header.seq) from exc
    if _disagrees(enrolment, header, reference_key):
        raise BodyMismatch(
            f"body of record {header.seq} disagrees with its header on what was captured",
            seq=header.seq,
        )
    return enrolment
