"""Write the record-format test vectors: keys, certificates, two-record chains, broken variants.

Four chains: ``chain/``, a version-1 certificate and an Ed25519 (key file) kit, kept byte
for byte as first published so version-1 records are shown to still verify; ``es256/``, a
version-2 certificate for a TPM-keyed kit that signs ES256 (its records, too, are record
format version 1, as published); and ``v2/``, records in format version 2 (a KIA child, a
lost-card replacement with a correction, a domicile walk-in who cannot sign, an early
first-time voter) by the Ed25519 kit; ``v3/``, the same four in format version 3
(keyed references); and ``v4/``, records of two rounds in format version 4 (a school with a
first-time voter heard by her guardian, a home visit to a person with a disability,
photographed seated with a companion, and a void).  The records of versions 1 to 3 are
written by `legacy_record`, as kits before format 4 sealed them, byte for byte as first
published: the kit itself only writes version 4.
A TPM's key cannot be fixed, so the ES256 kit's key is a software P-256 key from a seed,
signing with RFC 6979 deterministic nonces: the bytes are what a TPM-held key would write,
and repeat.

Everything is derived from fixed seeds (keys) and a counter-mode SHA-256 stream (the
ephemeral keys and IVs of encryption), and the signatures are deterministic, so every
run writes the same bytes; tests/storage/test_vectors.py checks that.

    python -m tests.vectors.make [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage import certificate as cert_format
from storage.certificate import issue_certificate
from storage.codec import dumps, loads
from storage.cose import HDR_ALG, TAG_SIGN1, Es256Signer, SignAlg, encrypt, sign1
from storage.groups import groups_of
from storage.keys import Authority, KeyBackend, KitKey, KitSigner, kid_of, p256_public_bytes
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
    Resident,
    RoundStamp,
    SignatureException,
    SignatureExceptionReason,
)
from storage.record import (
    CONTENT_TYPE,
    V2_BODY_KEYS,
    V2_HEADER_ADDS,
    V4_HEADER_ADDS,
    RecordHeader,
    body_map,
    external_aad,
    header_map,
    record_hash,
    seal_record,
)
from storage.reference import ReferenceKey
from storage.verify import Verifier
from vocabulary.people import Sex
from vocabulary.purpose import Purpose
from vocabulary.rounds import Assist, Disability, VenueKind

HERE = Path(__file__).resolve().parent
KIT_ID = "JMP-1671-0001"
TPM_KIT_ID = "JMP-1671-0002"
REGION = "1671"
NOT_BEFORE = datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2030, 1, 1, tzinfo=UTC)
SEALED = (datetime(2025, 6, 2, 1, 0, tzinfo=UTC), datetime(2025, 6, 2, 1, 7, 30, tzinfo=UTC))
V2_SEALED = tuple(datetime(2025, 6, 3, 2, minute, tzinfo=UTC) for minute in (0, 10, 20, 30))
V3_SEALED = tuple(datetime(2026, 12, 1, 3, minute, tzinfo=UTC) for minute in (0, 10, 20, 30))
V4_SEALED = (
    datetime(2027, 3, 10, 2, 0, tzinfo=UTC),
    datetime(2027, 3, 10, 2, 12, tzinfo=UTC),
    datetime(2027, 3, 12, 6, 0, tzinfo=UTC),
    datetime(2027, 3, 12, 6, 30, tzinfo=UTC),
)
#: The two rounds of the version-4 vectors, and the election day the first counts against.
SCHOOL = RoundStamp("SMA1-PLG-0310", VenueKind.SEKOLAH)
HOME_VISIT = RoundStamp("KR-PLG-0312", VenueKind.KUNJUNGAN_RUMAH)
ELECTION_DAY = date(2029, 2, 14)


def seed(label: str) -> bytes:
    return hashlib.sha256(b"jemput test vector " + label.encode()).digest()


class StreamRng:
    """SHA-256(seed || 8-byte big-endian counter) blocks, concatenated: a repeatable rng."""

    def __init__(self, key: bytes) -> None:
        self._key, self._counter, self._buffer = key, 0, b""

    def __call__(self, size: int) -> bytes:
        while len(self._buffer) < size:
            block = self._key + self._counter.to_bytes(8, "big")
            self._buffer += hashlib.sha256(block).digest()
            self._counter += 1
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def authority(label: str, name: str) -> Authority:
    return Authority(
        name=name,
        demo=True,
        signing=Ed25519PrivateKey.from_private_bytes(seed(label + " signing")),
        decryption=X25519PrivateKey.from_private_bytes(seed(label + " encryption")),
        references=ReferenceKey(seed(label + " reference")),
    )


def enrolments() -> tuple[Enrolment, Enrolment]:
    siti = Resident(
        nik="1671014501900001",
        name="SITI AMINAH",
        sex=Sex.FEMALE,
        birth_place="PALEMBANG",
        birth_date=date(1990, 1, 5),
        province="SUMATERA SELATAN",
        regency="KOTA PALEMBANG",
        village="20 ILIR D IV",
        worklist_ref="WL-0007",
    )
    budi = Resident(
        nik="1671010203080002",
        name="BUDI SANTOSO",
        sex=Sex.MALE,
        birth_place="PALEMBANG",
        birth_date=date(2008, 3, 2),
    )
    return (
        Enrolment(
            resident=siti,
            officer_id="OFC-01",
            started_at=datetime(2025, 6, 2, 0, 55, tzinfo=UTC),
            face_jpeg=b"\xff\xd8\xff\xe0 face of siti \xff\xd9",
            fingers=(
                FingerRecord(1, image_png=b"\x89PNG thumb", template=b"tpl-1", quality=72),
                FingerRecord(2, exception="bandaged"),
            ),
            signature_strokes=(((10, 700), (40, 650), (90, 600)),),
            signature_png=b"\x89PNG signature",
            print_card=True,
        ),
        Enrolment(
            resident=budi,
            officer_id="OFC-01",
            started_at=datetime(2025, 6, 2, 1, 2, tzinfo=UTC),
            fingers=(FingerRecord(6, image_png=b"\x89PNG thumb", template=b"tpl-6", quality=55),),
            walk_in=True,
        ),
    )


def v2_enrolments() -> tuple[Enrolment, ...]:
    """Format version 2's cases: a KIA child, a lost card corrected, a domicile walk-in who
    cannot sign, an early first-time voter."""
    started = datetime(2025, 6, 3, 1, 55, tzinfo=UTC)
    child = Resident(
        nik="1671015506150003",
        name="PUTRI AYU",
        sex=Sex.FEMALE,
        birth_place="PALEMBANG",
        birth_date=date(2015, 6, 15),
        worklist_ref="WL-0011",
    )
    lost = Resident(
        nik="1671011107850004",
        name="AHMAD FAUZI",
        sex=Sex.MALE,
        birth_place="PALEMBANG",
        birth_date=date(1985, 7, 11),
        religion="ISLAM",
        occupation="WIRASWASTA",
        worklist_ref="WL-0012",
        purpose=Purpose.HILANG,
    )
    away = Resident(
        nik="3505014404920005",
        name="SRI WAHYUNI",
        sex=Sex.FEMALE,
        birth_place="BLITAR",
        birth_date=date(1992, 4, 4),
    )
    voter = Resident(
        nik="1671012009080006",
        name="RIZKY PRATAMA",
        sex=Sex.MALE,
        birth_place="PALEMBANG",
        birth_date=date(2008, 9, 20),
        worklist_ref="WL-0013",
    )
    face = b"\xff\xd8\xff\xe0 face \xff\xd9"
    thumb = FingerRecord(1, image_png=b"\x89PNG thumb", template=b"tpl-1", quality=70)
    return (
        Enrolment(
            resident=child,
            officer_id="OFC-01",
            started_at=started,
            face_jpeg=face,
            print_card=True,
            kind=CardKind.KIA,
            official_id="KADES-01",
        ),
        Enrolment(
            resident=lost,
            officer_id="OFC-01",
            started_at=started,
            face_jpeg=face,
            fingers=(thumb,),
            signature_png=b"\x89PNG signature",
            purpose=Purpose.HILANG,
            official_id="KADES-01",
            corrections=(
                Correction(CorrectableField.OCCUPATION, "WIRASWASTA", "PEDAGANG", "KADES-01"),
            ),
            flagged=(FlaggedError(FreeTextField.BIRTH_PLACE, FlagReason.MISSPELLED),),
        ),
        Enrolment(
            resident=away,
            officer_id="OFC-01",
            started_at=started,
            face_jpeg=face,
            fingers=(thumb,),
            walk_in=True,
            official_id="KADES-01",
            domicile=Domicile("3505010101200007", "3505"),
            signature_exception=SignatureException(SignatureExceptionReason.CANNOT_WRITE, "SPV-01"),
            approvals=("SPV-01",),
        ),
        Enrolment(
            resident=voter,
            officer_id="OFC-01",
            started_at=started,
            face_jpeg=face,
            fingers=(thumb,),
            signature_png=b"\x89PNG signature",
            official_id="KADES-01",
            card_from=date(2025, 9, 20),
        ),
    )


def v4_enrolments() -> tuple[Enrolment, ...]:
    """Format version 4's cases, on two rounds: at a school, a first-time voter of 16
    recorded early (her guardian heard the notice) and one of 18; on a home visit, a man
    with a physical disability photographed seated, a companion answering, who cannot sign;
    and a void of the school's second record, sealed in error."""
    face = b"\xff\xd8\xff\xe0 face \xff\xd9"
    thumb = FingerRecord(1, image_png=b"\x89PNG thumb", template=b"tpl-1", quality=70)
    early = Resident(
        nik="1671016005100007",
        name="NUR AINI",
        sex=Sex.FEMALE,
        birth_place="PALEMBANG",
        birth_date=date(2010, 5, 20),
        worklist_ref="1671016005100007",
    )
    senior = Resident(
        nik="1671010311080008",
        name="DIMAS SAPUTRA",
        sex=Sex.MALE,
        birth_place="PALEMBANG",
        birth_date=date(2008, 11, 3),
        worklist_ref="1671010311080008",
    )
    visited = Resident(
        nik="1671011208750009",
        name="SUKARDI",
        sex=Sex.MALE,
        birth_place="PALEMBANG",
        birth_date=date(1975, 8, 12),
        worklist_ref="1671011208750009",
    )
    sealed = (
        Enrolment(
            resident=early,
            officer_id="OFC-01",
            started_at=datetime(2027, 3, 10, 1, 50, tzinfo=UTC),
            face_jpeg=face,
            fingers=(thumb,),
            signature_png=b"\x89PNG signature",
            card_from=date(2027, 5, 20),
            round=SCHOOL,
            notice=1,
            guardian="SUPARMI",
        ),
        Enrolment(
            resident=senior,
            officer_id="OFC-01",
            started_at=datetime(2027, 3, 10, 2, 5, tzinfo=UTC),
            face_jpeg=face,
            fingers=(thumb,),
            signature_png=b"\x89PNG signature",
            print_card=True,
            round=SCHOOL,
            notice=1,
        ),
        Enrolment(
            resident=visited,
            officer_id="OFC-01",
            started_at=datetime(2027, 3, 12, 5, 40, tzinfo=UTC),
            face_jpeg=face,
            fingers=(thumb,),
            signature_exception=SignatureException(SignatureExceptionReason.DISABILITY, "SPV-01"),
            approvals=("SPV-01",),
            round=HOME_VISIT,
            notice=1,
            disability=Disability.FISIK,
            assists=(Assist.SEATED, Assist.COMPANION),
        ),
        replace(
            Enrolment.void(
                voids=2,
                resident=senior,
                officer_id="OFC-01",
                approved_by="SPV-01",
                at=datetime(2027, 3, 12, 6, 25, tzinfo=UTC),
            ),
            round=HOME_VISIT,
        ),
    )
    # the kit applies the groups at the seal (storage.groups), against the round's election day
    return tuple(replace(e, groups=groups_of(e, election_day=ELECTION_DAY)) for e in sealed)


def legacy_record(
    enrolment: Enrolment,
    *,
    kit_id: str,
    seq: int,
    prev_hash: bytes,
    sealed_at: datetime,
    kit_key: KitSigner,
    authority: Authority,
    rng: StreamRng,
    version: int = 1,
) -> bytes:
    """A record in format version 1, 2 or 3, as kits sealed them before version 4: without
    the round, the groups and the notice; before version 3 also with the plain worklist
    reference in the header ("worklist") instead of the keyed one, and version 1 also
    without what version 2 added (the resident's purpose included)."""
    body = body_map(enrolment)
    if version == 1:
        body = {k: v for k, v in body.items() if k not in V2_BODY_KEYS}
        body["resident"] = {k: v for k, v in body["resident"].items() if k != "purpose"}
    sealed_body = encrypt(
        dumps(body),
        authority.public.enc_public,
        external_aad=external_aad(kit_id, seq),
        rng=rng,
        protected={"kit": kit_id, "seq": seq},
        kid=authority.public.enc_kid,
    )
    ref = enrolment.resident.worklist_ref
    header = header_map(
        enrolment,
        kit_id=kit_id,
        seq=seq,
        prev_hash=prev_hash,
        sealed_at=sealed_at,
        body=sealed_body,
        keyed_ref=None if version < 3 or ref is None else authority.references.keyed(ref),
    )
    dropped = set(V4_HEADER_ADDS)
    if version < 3:
        dropped |= {"ref", *V2_HEADER_ADDS} if version == 1 else {"ref"}
    old = {k: v for k, v in header.items() if k not in dropped} | {"v": version}
    if version < 3:
        old["worklist"] = ref
    return sign1(dumps(old), kit_key, kid=kit_key.kid, content_type=CONTENT_TYPE)


def header_json(header: RecordHeader) -> dict[str, Any]:
    return {
        "version": header.version,
        "kit_id": header.kit_id,
        "seq": header.seq,
        "prev": header.prev.hex(),
        "sealed_at": header.sealed_at.isoformat(),
        "officer_id": header.officer_id,
        "worklist_ref": header.worklist_ref,
        "captured": [m.value for m in header.captured],
        "excepted": list(header.excepted),
        "print_card": header.print_card,
        "voids": header.voids,
        "walk_in": header.walk_in,
        "kind": header.kind.value,
        "purpose": header.purpose.value,
        "official_id": header.official_id,
        "domicile": header.domicile,
        "corrected": [field.value for field in header.corrected],
        "flagged": [[f.field.value, f.reason.value] for f in header.flagged],
        "signature_excepted": header.signature_excepted,
        "early": header.early,
        "keyed_ref": None if header.keyed_ref is None else header.keyed_ref.hex(),
        # what version 4 adds, only for its headers: the older vectors' entries stay as
        # first published (their headers read these as no round, no group, no notice)
        **(
            {
                "round": None
                if header.round is None
                else [header.round.code, header.round.venue.value],
                "groups": [group.value for group in header.groups],
                "notice": header.notice,
                "guardian": header.guardian,
            }
            if header.version >= 4
            else {}
        ),
    }


def swap_body(target: bytes, donor: bytes, kit: KitKey) -> bytes:
    """``target`` re-signed by the kit with ``donor``'s body: what a buggy kit could write."""
    return with_header(target, kit, body=loads(loads(donor).value[2])["body"])


def legacy_certificate(auth: Authority, kit_public: bytes) -> bytes:
    """A version-1 kit certificate (no "alg", no "store"), as kits flashed before v2 hold."""
    claims = {
        "v": cert_format.LEGACY_VERSION,
        "kit": KIT_ID,
        "region": REGION,
        "key": kit_public,
        "nbf": int(NOT_BEFORE.timestamp()),
        "exp": int(NOT_AFTER.timestamp()),
        "iss": auth.kid,
    }
    return sign1(
        dumps(claims), auth.signing_key, kid=auth.kid, content_type=cert_format.CONTENT_TYPE
    )


class VectorTpmKey:
    """The ES256 kit's key: a seeded P-256 key standing in for a TPM's (see the docstring)."""

    alg = SignAlg.ES256
    backend = KeyBackend.TPM

    def __init__(self, private: ec.EllipticCurvePrivateKey) -> None:
        self.signer = Es256Signer(private, deterministic=True)
        self.public_bytes = p256_public_bytes(private.public_key())
        self.kid = kid_of(self.public_bytes)

    def sign(self, data: bytes) -> bytes:
        return self.signer.sign(data)

    def close(self) -> None:
        """Nothing to release: a key in memory."""


def p256_from_seed(label: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key whose scalar is SHA-256 of the label, reduced into [1, n-1]."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(seed(label), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


#: Seals one record: (enrolment, seq, prev_hash, sealed_at) -> the record's bytes.
Seal = Callable[[Enrolment, int, bytes, datetime], bytes]


def chained(cert: bytes, sealed: Iterable[tuple[Enrolment, datetime]], seal: Seal) -> list[bytes]:
    """Records 1, 2, ... of ``sealed``, each sealed onto the hash of the one before (the
    certificate's for the first), in order: the seeded rng is drawn the same every run."""
    records, prev = [], record_hash(cert)
    for seq, (enrolment, sealed_at) in enumerate(sealed, 1):
        records.append(seal(enrolment, seq, prev, sealed_at))
        prev = record_hash(records[-1])
    return records


def seal_chain(
    kit_id: str, key: KitSigner, cert: bytes, auth: Authority, rng: StreamRng
) -> list[bytes]:
    """The two version-1 vector enrolments sealed as records 1 and 2 of ``kit_id``'s chain."""

    def seal(enrolment: Enrolment, seq: int, prev: bytes, sealed_at: datetime) -> bytes:
        return legacy_record(
            enrolment,
            kit_id=kit_id,
            seq=seq,
            prev_hash=prev,
            sealed_at=sealed_at,
            kit_key=key,
            authority=auth,
            rng=rng,
        )

    return chained(cert, zip(enrolments(), SEALED, strict=True), seal)


def seal_v2_chain(kit: KitSigner, cert: bytes, auth: Authority, rng: StreamRng) -> list[bytes]:
    """The version-2 enrolments sealed in format version 2 as records 1 to 4 (as kits
    sealed them before version 3: the bytes are those first published)."""

    def seal(enrolment: Enrolment, seq: int, prev: bytes, sealed_at: datetime) -> bytes:
        return legacy_record(
            enrolment,
            kit_id=KIT_ID,
            seq=seq,
            prev_hash=prev,
            sealed_at=sealed_at,
            kit_key=kit,
            authority=auth,
            rng=rng,
            version=2,
        )

    return chained(cert, zip(v2_enrolments(), V2_SEALED, strict=True), seal)


def seal_v3_chain(kit: KitSigner, cert: bytes, auth: Authority, rng: StreamRng) -> list[bytes]:
    """The version-2 enrolments sealed in format version 3 (keyed references under the
    authority's reference key) as records 1 to 4, as the kit's `seal_record` sealed them
    before version 4: the bytes are those first published."""

    def seal(enrolment: Enrolment, seq: int, prev: bytes, sealed_at: datetime) -> bytes:
        return legacy_record(
            enrolment,
            kit_id=KIT_ID,
            seq=seq,
            prev_hash=prev,
            sealed_at=sealed_at,
            kit_key=kit,
            authority=auth,
            rng=rng,
            version=3,
        )

    return chained(cert, zip(v2_enrolments(), V3_SEALED, strict=True), seal)


def seal_v4_chain(kit: KitSigner, cert: bytes, auth: Authority, rng: StreamRng) -> list[bytes]:
    """The version-4 enrolments sealed by the kit's own `seal_record` as records 1 to 4."""

    def seal(enrolment: Enrolment, seq: int, prev: bytes, sealed_at: datetime) -> bytes:
        return seal_record(
            enrolment,
            kit_id=KIT_ID,
            seq=seq,
            prev_hash=prev,
            sealed_at=sealed_at,
            kit_key=kit,
            authority=auth.public,
            reference_key=auth.references,
            rng=rng,
        )

    return chained(cert, zip(v4_enrolments(), V4_SEALED, strict=True), seal)


def with_header(record: bytes, kit: KitKey, **changes: Any) -> bytes:
    """``record`` with header fields changed, re-signed by the kit: what only a kit (or its
    key) could write, so only the header's own rules can refuse it."""
    fields = loads(loads(record).value[2]) | changes
    return sign1(dumps(fields), kit.private, kid=kit.kid, content_type=CONTENT_TYPE)


def with_protected_alg(record: bytes, alg: int) -> bytes:
    """``record`` with its header's alg replaced and its signature kept: an algorithm swap."""
    protected, unprotected, payload, signature = loads(record).value
    header = dict(loads(protected))
    header[HDR_ALG] = alg
    return dumps(cbor2.CBORTag(TAG_SIGN1, [dumps(header), dict(unprotected), payload, signature]))


def with_der_signature(record: bytes) -> bytes:
    """``record`` with its r||s signature re-encoded as DER (what a careless port would write)."""
    protected, unprotected, payload, signature = loads(record).value
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    der = encode_dss_signature(r, s)
    return dumps(cbor2.CBORTag(TAG_SIGN1, [protected, dict(unprotected), payload, der]))


def build() -> dict[str, bytes]:
    """Every vector file, by path relative to the vectors folder."""
    ours, other = authority("authority", "Dukcapil (test)"), authority("other", "Other (test)")
    kit = KitKey(Ed25519PrivateKey.from_private_bytes(seed("kit signing")))
    rng = StreamRng(seed("rng"))
    cert = legacy_certificate(ours, kit.public_bytes)
    records = seal_chain(KIT_ID, kit, cert, ours, rng)
    flipped = bytearray(records[0])
    flipped[-1] ^= 0x01
    tpm_private = p256_from_seed("tpm kit signing")
    tpm_key = VectorTpmKey(tpm_private)
    tpm_cert = issue_certificate(
        ours,
        kit_id=TPM_KIT_ID,
        region=REGION,
        kit_public=tpm_key.public_bytes,
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
        alg=SignAlg.ES256,
        backend=KeyBackend.TPM,
    )
    tpm_records = seal_chain(TPM_KIT_ID, tpm_key, tpm_cert, ours, StreamRng(seed("tpm rng")))
    tpm_flipped = bytearray(tpm_records[0])
    tpm_flipped[-1] ^= 0x01
    v2_records = seal_v2_chain(kit, cert, ours, StreamRng(seed("v2 rng")))
    v3_records = seal_v3_chain(kit, cert, ours, StreamRng(seed("v3 rng")))
    v4_records = seal_v4_chain(kit, cert, ours, StreamRng(seed("v4 rng")))
    keys = {
        "authority": _authority_json(ours, "authority"),
        "other_authority": _authority_json(other, "other"),
        "kit": {
            "kit_id": KIT_ID,
            "region": REGION,
            "private_seed": seed("kit signing").hex(),
            "public": kit.public_bytes.hex(),
            "kid": kit.kid.hex(),
        },
        "es256_kit": {
            "kit_id": TPM_KIT_ID,
            "region": REGION,
            "private_scalar": f"{tpm_private.private_numbers().private_value:064x}",
            "public": tpm_key.public_bytes.hex(),
            "kid": tpm_key.kid.hex(),
            "signing": "RFC 6979 deterministic ECDSA P-256 SHA-256, raw r||s",
        },
        "rng": {"seed": seed("rng").hex(), "stream": "SHA-256(seed || u64be counter) blocks"},
        "es256_rng": {"seed": seed("tpm rng").hex()},
        "v2_rng": {"seed": seed("v2 rng").hex()},
        "v3_rng": {"seed": seed("v3 rng").hex()},
        "v4_rng": {"seed": seed("v4 rng").hex()},
    }
    verifier = Verifier(ours.public)  # the expected values come from the one verifier
    expected = {
        **_chain_json(verifier, "chain", cert, records),
        "es256": _chain_json(verifier, "es256", tpm_cert, tpm_records),
        "v2": _chain_json(verifier, "v2", cert, v2_records, v2_enrolments()),
        "v3": _chain_json(verifier, "v3", cert, v3_records, v2_enrolments()),
        "v4": _chain_json(verifier, "v4", cert, v4_records, v4_enrolments()),
        "broken": [
            {"file": "broken/flipped-byte.cose", "check": "record", "error": "BadSignature"},
            {"file": "broken/truncated.cose", "check": "record", "error": "Truncated"},
            {"file": "broken/swapped-body.cose", "check": "record", "error": "BodyMismatch"},
            {
                "file": "broken/wrong-authority.cert",
                "check": "certificate",
                "error": "ForeignCertificate",
            },
            {"file": "broken/gap", "check": "folder", "error": "BrokenChain", "gaps": [[1, 1]]},
            *(
                {
                    "file": f"broken/{name}",
                    "check": "record",
                    "error": "BadSignature",
                    "certificate": "es256/kit.cert",
                }
                for name in (
                    "es256-flipped-byte.cose",
                    "es256-alg-eddsa.cose",
                    "es256-der-signature.cose",
                )
            ),
            {
                "file": "broken/es256-under-v1-cert.cose",
                "check": "record",
                "error": "UnknownKit",
            },
            {"file": "broken/v4-unknown-venue.cose", "check": "record", "error": "Tampered"},
        ],
    }
    return {
        "keys.json": _json(keys),
        "expected.json": _json(expected),
        "authority.pub.cbor": ours.public.to_cbor(),
        "chain/kit.cert": cert,
        "chain/00000001.cose": records[0],
        "chain/00000002.cose": records[1],
        "es256/kit.cert": tpm_cert,
        "es256/00000001.cose": tpm_records[0],
        "es256/00000002.cose": tpm_records[1],
        "broken/flipped-byte.cose": bytes(flipped),
        "broken/truncated.cose": records[0][: len(records[0]) // 2],
        "broken/swapped-body.cose": swap_body(records[1], records[0], kit),
        "broken/wrong-authority.cert": issue_certificate(
            other,
            kit_id=KIT_ID,
            region=REGION,
            kit_public=kit.public_bytes,
            not_before=NOT_BEFORE,
            not_after=NOT_AFTER,
        ),
        "broken/gap/kit.cert": cert,
        "broken/gap/00000002.cose": records[1],
        "broken/es256-flipped-byte.cose": bytes(tpm_flipped),
        "broken/es256-alg-eddsa.cose": with_protected_alg(tpm_records[0], int(SignAlg.EDDSA)),
        "broken/es256-der-signature.cose": with_der_signature(tpm_records[0]),
        "broken/es256-under-v1-cert.cose": tpm_records[0],
        "v2/kit.cert": cert,
        **{f"v2/{seq:08d}.cose": data for seq, data in enumerate(v2_records, 1)},
        "v3/kit.cert": cert,
        **{f"v3/{seq:08d}.cose": data for seq, data in enumerate(v3_records, 1)},
        "v4/kit.cert": cert,
        **{f"v4/{seq:08d}.cose": data for seq, data in enumerate(v4_records, 1)},
        "broken/v4-unknown-venue.cose": with_header(v4_records[0], kit, venue="kebun binatang"),
    }


def _chain_json(
    verifier: Verifier,
    folder: str,
    cert: bytes,
    records: list[bytes],
    sealed: tuple[Enrolment, ...] | None = None,
) -> dict[str, Any]:
    """What the verifier must find in one chain folder: certificate, headers, summary."""
    certificate = verifier.certificate(cert)
    return {
        "certificate": {
            "file": f"{folder}/kit.cert",
            "version": certificate.version,
            "kit_id": certificate.kit_id,
            "region": certificate.region,
            "kit_public": certificate.kit_public.hex(),
            "alg": int(certificate.alg),
            "backend": certificate.backend.value,
            "not_before": certificate.not_before.isoformat(),
            "not_after": certificate.not_after.isoformat(),
            "issuer_kid": certificate.issuer_kid.hex(),
            "sha256": certificate.digest.hex(),
        },
        "records": [
            {
                "file": f"{folder}/{seq:08d}.cose",
                "sha256": record_hash(data).hex(),
                "header": header_json(verifier.verify_record(data, certificate)),
                "nik": enrolment.resident.nik,
            }
            for seq, (data, enrolment) in enumerate(
                zip(records, sealed or enrolments(), strict=True), 1
            )
        ],
        "chain": {
            "folder": folder,
            "count": len(records),
            "first": 1,
            "last": len(records),
            "gaps": [],
        },
    }


def _authority_json(auth: Authority, label: str) -> dict[str, Any]:
    return {
        "name": auth.public.name,
        "demo": auth.public.demo,
        "signing_seed": seed(label + " signing").hex(),
        "encryption_seed": seed(label + " encryption").hex(),
        "reference_seed": seed(label + " reference").hex(),
        "sign_public": auth.public.sign_raw.hex(),
        "enc_public": auth.public.enc_raw.hex(),
        "kid": auth.public.kid.hex(),
        "enc_kid": auth.public.enc_kid.hex(),
    }


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    out = parser.parse_args(argv).out
    files = build()
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(files)} vector files to {out}")


if __name__ == "__main__":
    main()
