"""Sealing and opening records: every enrolment comes back whole, the header says what it must."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.codec import Tampered, dumps, loads
from storage.cose import decrypt, encrypt, sign1
from storage.groups import groups_of
from storage.keys import Authority, KitKey
from storage.model import (
    ALL_FINGERS,
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
    Resident,
    RoundStamp,
    SignatureException,
    SignatureExceptionReason,
)
from storage.record import (
    CONTENT_TYPE,
    RECORD_VERSION,
    V2_BODY_KEYS,
    V2_HEADER_ADDS,
    V4_BODY_KEYS,
    V4_HEADER_ADDS,
    BodyMismatch,
    UnsupportedVersion,
    WrongRecipient,
    external_aad,
    open_record,
    read_header,
    record_hash,
    seal_record,
)
from storage.reference import ReferenceKey
from vocabulary.people import Sex
from vocabulary.purpose import Purpose
from vocabulary.rounds import Assist, Disability, VenueKind

AUTHORITY = Authority(
    name="Dukcapil (test)",
    demo=True,
    signing=Ed25519PrivateKey.from_private_bytes(b"\x01" * 32),
    decryption=X25519PrivateKey.from_private_bytes(b"\x02" * 32),
)
KIT = KitKey(Ed25519PrivateKey.from_private_bytes(b"\x03" * 32))
PREV = record_hash(b"the certificate")
SEALED = datetime(2025, 6, 2, 8, 30, 15, 999_000, tzinfo=UTC)

short_text = st.text(max_size=12)
blobs = st.binary(min_size=1, max_size=40)
residents = st.builds(
    Resident,
    nik=st.from_regex(r"\A[0-9]{16}\Z"),
    name=short_text,
    sex=st.sampled_from(Sex),
    birth_place=short_text,
    birth_date=st.dates(min_value=date(1900, 1, 1)),
    village=short_text,
    worklist_ref=st.none() | short_text,
)


@st.composite
def fingers(draw: st.DrawFn) -> tuple[FingerRecord, ...]:
    positions = draw(st.lists(st.sampled_from(ALL_FINGERS), unique=True, max_size=10))
    found = []
    for position in positions:
        if draw(st.booleans()):
            quality = draw(st.none() | st.integers(0, 100))
            found.append(FingerRecord(position, image_png=draw(blobs), quality=quality))
        else:
            approver = draw(st.none() | short_text)
            found.append(FingerRecord(position, exception=draw(short_text), approved_by=approver))
    return tuple(found)


points = st.tuples(st.integers(0, 2047), st.integers(0, 767))
corrections = st.builds(
    Correction,
    field=st.sampled_from(CorrectableField),
    original=st.just("ISLAM"),
    new=st.sampled_from(["KRISTEN", "HINDU"]),
    approved_by=st.text(min_size=1, max_size=8),
)
domiciles = st.builds(
    Domicile, kk_number=st.from_regex(r"\A[0-9]{16}\Z"), home_regency=st.from_regex(r"\A[0-9]{4}\Z")
)
signature_exceptions = st.builds(
    SignatureException,
    reason=st.sampled_from(SignatureExceptionReason),
    approved_by=st.text(min_size=1, max_size=8),
)
flags = st.builds(
    FlaggedError, field=st.sampled_from(FreeTextField), reason=st.sampled_from(FlagReason)
)
enrolments = st.builds(
    Enrolment,
    resident=residents,
    officer_id=short_text,
    started_at=st.datetimes(timezones=st.just(UTC)),
    face_jpeg=st.none() | blobs,
    fingers=fingers(),
    signature_strokes=st.lists(st.lists(points, max_size=4).map(tuple), max_size=3).map(tuple),
    signature_png=st.none() | blobs,
    print_card=st.booleans(),
    walk_in=st.booleans(),
    voids=st.none() | st.integers(1, 10**6),
    void_reason=short_text,
    approvals=st.lists(short_text, max_size=3).map(tuple),
    kind=st.sampled_from(CardKind),
    purpose=st.sampled_from(Purpose),
    official_id=st.none() | short_text,
    corrections=st.lists(corrections, max_size=3).map(tuple),
    flagged=st.lists(flags, max_size=2).map(tuple),
    domicile=st.none() | domiciles,
    signature_exception=st.none() | signature_exceptions,
    card_from=st.none() | st.dates(),
    round=st.none()
    | st.builds(
        RoundStamp,
        code=st.from_regex(r"\A[A-Z0-9][A-Z0-9-]{2,31}\Z"),
        venue=st.sampled_from(VenueKind),
    ),
    notice=st.none() | st.just(1),
    guardian=st.none() | st.text(alphabet="ABCDEFGH", min_size=1, max_size=12),
    disability=st.none() | st.sampled_from(Disability),
    assists=st.lists(st.sampled_from(Assist), unique=True).map(tuple),
).map(
    # what the kit's seal and flow make consistent: the groups (storage.groups), no
    # notice or disability for a void, no guardian without a notice
    lambda e: replace(
        e,
        groups=groups_of(e, election_day=date(2029, 2, 14)),
        notice=None if e.voids is not None else e.notice,
        guardian=None if e.voids is not None or e.notice is None else e.guardian,
        disability=None if e.voids is not None else e.disability,
    )
)


def seal(enrolment: Enrolment, *, seq: int = 1, authority: Authority = AUTHORITY) -> bytes:
    return seal_record(
        enrolment,
        kit_id="KIT-7",
        seq=seq,
        prev_hash=PREV,
        sealed_at=SEALED,
        kit_key=KIT,
        authority=authority.public,
        reference_key=authority.references,
    )


SIMPLE = Enrolment(
    resident=Resident("1671014501900001", "SITI", Sex.FEMALE, "PALEMBANG", date(1990, 1, 5)),
    officer_id="OFC-1",
    started_at=SEALED - timedelta(minutes=5),
    face_jpeg=b"jpeg",
    fingers=(FingerRecord(3, exception="missing", approved_by="SUP-1"),),
)


@given(enrolments, st.integers(1, 2**40))
@settings(max_examples=60, deadline=None)
def test_seal_open_round_trip_and_header(enrolment: Enrolment, seq: int) -> None:
    data = seal(enrolment, seq=seq)
    assert open_record(data, AUTHORITY, AUTHORITY.references) == enrolment
    header = read_header(data)
    assert (header.version, header.kit_id, header.seq, header.prev) == (4, "KIT-7", seq, PREV)
    assert header.sealed_at == SEALED.replace(microsecond=0)
    assert header.officer_id == enrolment.officer_id
    ref = enrolment.resident.worklist_ref
    assert header.worklist_ref is None
    assert header.keyed_ref == (None if ref is None else AUTHORITY.references.keyed(ref))
    assert header.captured == enrolment.captured
    assert header.excepted == enrolment.excepted_fingers
    assert (header.print_card, header.voids, header.walk_in) == (
        enrolment.print_card,
        enrolment.voids,
        enrolment.walk_in,
    )
    assert (header.kind, header.purpose, header.official_id) == (
        enrolment.kind,
        enrolment.purpose,
        enrolment.official_id,
    )
    assert header.corrected == tuple(c.field for c in enrolment.corrections)
    assert header.flagged == enrolment.flagged
    assert header.domicile == (enrolment.domicile is not None)
    assert header.signature_excepted == (enrolment.signature_exception is not None)
    assert header.early == (enrolment.card_from is not None)
    assert (header.round, header.groups, header.notice) == (
        enrolment.round,
        enrolment.groups,
        enrolment.notice,
    )
    assert header.guardian == (enrolment.guardian is not None)


def test_header_shows_no_biometrics_or_demographics() -> None:
    payload = loads(loads(seal(SIMPLE)).value[2])
    assert payload["captured"] == [Modality.FACE.value]
    assert payload["excepted"] == [3]
    cleartext = dumps({k: v for k, v in payload.items() if k != "body"})
    for secret in (b"jpeg", b"SITI", b"1671014501900001"):
        assert secret not in cleartext
    assert b"jpeg" not in seal(SIMPLE)


def test_record_hash_is_sha256_of_the_bytes() -> None:
    data = seal(SIMPLE)
    assert record_hash(data) == hashlib.sha256(data).digest()


@pytest.mark.parametrize(
    "kwargs",
    [{"seq": 0}, {"prev_hash": b"short"}, {"sealed_at": datetime(2025, 1, 1)}],
)
def test_seal_refuses_bad_arguments(kwargs: dict[str, object]) -> None:
    arguments: dict = dict(
        kit_id="K",
        seq=1,
        prev_hash=PREV,
        sealed_at=SEALED,
        kit_key=KIT,
        authority=AUTHORITY.public,
        reference_key=AUTHORITY.references,
    )
    with pytest.raises(ValueError, match="seal_record needs"):
        seal_record(SIMPLE, **(arguments | kwargs))


def resign(data: bytes, change: dict[str, object]) -> bytes:
    """The record with header fields changed and signed again by the kit."""
    fields = loads(loads(data).value[2])
    return sign1(dumps(fields | change), KIT.private, kid=KIT.kid, content_type=CONTENT_TYPE)


def test_unknown_version_is_named() -> None:
    with pytest.raises(UnsupportedVersion, match="version 5; this tool reads versions 1, 2, 3, 4"):
        read_header(resign(seal(SIMPLE), {"v": RECORD_VERSION + 1}))


def as_version(data: bytes, version: int, worklist_ref: str | None) -> bytes:
    """The record as version 1 or 2 wrote it (the plain ``worklist_ref``, and for version 1
    without what version 2 added; a body without what version 4 added), signed again."""
    fields = loads(loads(data).value[2])
    dropped = {"ref", *V4_HEADER_ADDS, *(V2_HEADER_ADDS if version == 1 else ())}
    old = {k: v for k, v in fields.items() if k not in dropped}
    body = loads(
        decrypt(fields["body"], AUTHORITY.decrypt_key, external_aad=external_aad("KIT-7", 1))
    )
    old |= {
        "v": version,
        "worklist": worklist_ref,
        "body": encrypt(
            dumps({k: v for k, v in body.items() if k not in V4_BODY_KEYS}),
            AUTHORITY.public.enc_public,
            external_aad=external_aad("KIT-7", 1),
            protected={"kit": "KIT-7", "seq": 1},
            kid=AUTHORITY.public.enc_kid,
        ),
    }
    return sign1(dumps(old), KIT.private, kid=KIT.kid, content_type=CONTENT_TYPE)


def as_version_1(data: bytes) -> bytes:
    return as_version(data, 1, None)


WITH_REF = replace(SIMPLE, resident=replace(SIMPLE.resident, worklist_ref="1671014501900001"))


def test_a_sealed_header_holds_no_nik() -> None:
    """The signed payload (header and encrypted body) names the resident by keyed reference."""
    payload = loads(seal(WITH_REF)).value[2]
    assert WITH_REF.resident.nik.encode() not in payload
    assert loads(payload)["ref"] == AUTHORITY.references.keyed("1671014501900001")
    assert "worklist" not in loads(payload)


@pytest.mark.parametrize("version", [1, 2])
def test_an_old_header_with_a_plain_reference_reads_and_opens(version: int) -> None:
    data = as_version(seal(WITH_REF), version, "1671014501900001")
    header = read_header(data)
    assert (header.version, header.worklist_ref, header.keyed_ref) == (
        version,
        "1671014501900001",
        None,
    )
    assert header.reference == "1671014501900001"


def test_a_version_2_record_opens_against_its_plain_reference() -> None:
    data = as_version(seal(WITH_REF), 2, "1671014501900001")
    assert open_record(data, AUTHORITY).resident.worklist_ref == "1671014501900001"
    with pytest.raises(BodyMismatch):
        open_record(as_version(seal(WITH_REF), 2, "SOMEONE-ELSE"), AUTHORITY)


def test_a_keyed_reference_under_another_key_does_not_open_as_this_resident() -> None:
    other = ReferenceKey.generate()
    data = resign(seal(WITH_REF), {"ref": other.keyed("1671014501900001")})
    assert read_header(data).keyed_ref == other.keyed("1671014501900001")
    with pytest.raises(BodyMismatch):
        open_record(data, AUTHORITY, AUTHORITY.references)


@pytest.mark.parametrize(
    "change",
    [{"ref": b"short"}, {"ref": "1671014501900001"}, {"worklist": "1671014501900001"}],
)
def test_a_version_3_header_with_a_plain_or_malformed_reference_is_tampered(
    change: dict[str, object],
) -> None:
    with pytest.raises(Tampered):
        read_header(resign(seal(WITH_REF), change))


def test_a_version_1_header_reads_with_the_version_1_meaning() -> None:
    header = read_header(as_version_1(seal(SIMPLE)))
    assert header.version == 1
    assert (header.kind, header.purpose, header.official_id) == (CardKind.EKTP, Purpose.BARU, None)
    assert (header.corrected, header.flagged, header.domicile) == ((), (), False)


def test_a_version_1_header_with_version_2_keys_is_tampered() -> None:
    data = resign(seal(SIMPLE), {"v": 1})
    with pytest.raises(Tampered, match="not those of v1"):
        read_header(data)


def test_a_version_2_header_without_its_keys_is_tampered() -> None:
    fields = loads(loads(seal(SIMPLE)).value[2])
    del fields["purpose"]
    data = sign1(dumps(fields), KIT.private, kid=KIT.kid, content_type=CONTENT_TYPE)
    with pytest.raises(Tampered, match="not those of v4"):
        read_header(data)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "SIM"},
        {"purpose": "baru"},
        {"corrected": ["nama"]},
        {"flagged": [["nama"]]},
        {"flagged": [["agama", "salah ejaan"]]},
        {"flagged": [["nama", "lupa"]]},
        {"official": 7},
        {"domicile": 1},
        {"early": None},
    ],
)
def test_version_2_values_outside_their_lists_are_tampered(change: dict[str, object]) -> None:
    with pytest.raises(Tampered):
        read_header(resign(seal(SIMPLE), change))


def test_version_2_header_flags_are_checked_against_the_body() -> None:
    for change in (
        {"domicile": True, "groups": ["domisili"]},
        {"sig_exc": True},
        {"early": True},
        {"corrected": ["agama"]},
    ):
        with pytest.raises(BodyMismatch):
            open_record(resign(seal(SIMPLE), change), AUTHORITY)


def test_version_4_header_says_what_the_body_holds() -> None:
    """A guardian or a disability the header claims and the body lacks is a mismatch."""
    heard = replace(SIMPLE, notice=1)
    for change in ({"guardian": True}, {"groups": ["disabilitas"]}):
        with pytest.raises(BodyMismatch):
            open_record(resign(seal(heard), change), AUTHORITY)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"venue": "kebun binatang"}, "not a valid VenueKind"),
        ({"round": None}, "a venue kind without a round"),
        ({"round": "sma negeri 1"}, "not 3-32 capital letters"),
        ({"groups": ["disabilitas", "pemilih pemula"]}, "out of order"),
        ({"groups": ["lansia"]}, "not a valid Group"),
        ({"groups": ["KIA"]}, "disagree with the card"),
        ({"notice": 2}, "not a notice this tool knows"),
        ({"notice": True}, "not a notice this tool knows"),
        ({"notice": None, "guardian": True}, "a guardian heard a notice that was not given"),
        ({"voids": 1}, "a void names no person"),
    ],
)
def test_a_version_4_header_outside_its_lists_does_not_verify(
    change: dict[str, object], why: str
) -> None:
    """Venue kinds and groups come from fixed lists; anything else is Tampered."""
    stamped = replace(SIMPLE, round=RoundStamp("SMA1-KNG-0310", VenueKind.SEKOLAH), notice=1)
    with pytest.raises(Tampered, match=why):
        read_header(resign(seal(stamped), change))


def test_the_version_2_body_keys_are_those_the_seal_writes() -> None:
    from storage.record import body_map

    assert set(V2_BODY_KEYS) <= set(body_map(SIMPLE))


def test_corrections_keep_original_new_and_approver() -> None:
    correction = Correction(CorrectableField.RELIGION, "ISLAM", "KATOLIK", "KADES-1")
    enrolment = Enrolment(
        resident=SIMPLE.resident,
        officer_id="OFC-1",
        started_at=SIMPLE.started_at,
        corrections=(correction,),
        official_id="KADES-1",
    )
    opened = open_record(seal(enrolment), AUTHORITY)
    assert opened.corrections == (correction,)
    payload = loads(loads(seal(enrolment)).value[2])
    assert payload["corrected"] == ["agama"]
    assert b"KATOLIK" not in dumps({k: v for k, v in payload.items() if k != "body"})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Correction(CorrectableField.RELIGION, "ISLAM", "ISLAM", "K"), "the old one"),
        (lambda: Correction(CorrectableField.RELIGION, "ISLAM", "HINDU", ""), "no approving"),
        (lambda: Domicile("35050101012000", "3505"), "16 digits"),
        (lambda: Domicile("3505010101200007", "35"), "4-digit"),
        (lambda: SignatureException(SignatureExceptionReason.DISABILITY, ""), "supervisor"),
    ],
)
def test_version_2_facts_refuse_bad_values(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    "change",
    [{"extra": 1}, {"seq": "1"}, {"seq": 0}, {"prev": b"x"}, {"captured": ["smell"]}, {"print": 1}],
)
def test_malformed_headers_are_tampered(change: dict[str, object]) -> None:
    with pytest.raises(Tampered):
        read_header(resign(seal(SIMPLE), change))


def test_not_a_record_and_unprotected_fields_are_tampered() -> None:
    cert_like = sign1(b"\xa0", KIT.private, kid=KIT.kid, content_type="application/other")
    with pytest.raises(Tampered, match="not a record"):
        read_header(cert_like)
    item = loads(seal(SIMPLE))
    protected, _, payload, signature = item.value
    with pytest.raises(Tampered, match="unprotected"):
        read_header(dumps(cbor2.CBORTag(18, [protected, {4: b"x"}, payload, signature])))


def test_other_authority_cannot_open() -> None:
    other = Authority(
        name="Other",
        demo=True,
        signing=Ed25519PrivateKey.generate(),
        decryption=X25519PrivateKey.generate(),
    )
    with pytest.raises(WrongRecipient, match="not to authority 'Other'"):
        open_record(seal(SIMPLE), other)


def test_body_of_another_record_does_not_open() -> None:
    donor = loads(loads(seal(SIMPLE, seq=1)).value[2])["body"]
    with pytest.raises(BodyMismatch, match="carries the body of record 1"):
        open_record(resign(seal(SIMPLE, seq=2), {"body": donor}), AUTHORITY)


def test_header_that_lies_about_the_body_is_caught_on_opening() -> None:
    with pytest.raises(BodyMismatch, match="disagrees with its header"):
        open_record(resign(seal(SIMPLE), {"captured": []}), AUTHORITY)
