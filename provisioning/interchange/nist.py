"""One ANSI/NIST-ITL 1-2011 (Update 2015) transaction per live record, traditional encoding.

Records, in this order: Type-1 (the transaction), Type-2 (demographics), Type-8 (the
signature, where there is one), Type-10 (the face, where there is one), Type-14 (one per
finger with an image).  The standard defines no demographic field in Type-2 (only 2.001 LEN
and 2.002 IDC; the rest is the domain's), so Jemput declares its own domain in 1.013 and
numbers its fields from 2.003 in `TYPE2_FIELDS`, which docs/interchange.md lists and a test
keeps equal.

Why every value is derived from the record and nothing from the moment of export: a
re-export must give the same bytes, and the national system must be able to tell a
re-sent transaction from a new one.  So the transaction control number is the record's
chain and seq, and the dates are those of the record.

The writer is the `nistitl` package (LEN and CNT computed, separators placed); it encodes
text as Latin-1, so UTF-8 text (declared in 1.015) is handed to it as the Latin-1 reading
of its UTF-8 bytes, which it writes back byte for byte.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType

from provisioning.interchange.errors import BadAgency, CodecMissing, UnfitRecord
from provisioning.interchange.images import FINGER_PPI, Biometrics, Face, WsqFinger
from provisioning.interchange.source import LiveRecord
from vocabulary.people import Sex

#: 1.002 VER: ANSI/NIST-ITL 1-2011 with its 2013 and 2015 updates.
VERSION = "0502"
#: 1.004 TOT: the one kind of transaction Jemput sends, a resident's enrolment record.
TRANSACTION_TYPE = "ENROL"
#: 1.013 DOM: the domain whose field table the Type-2 record follows (docs/interchange.md).
DOMAIN = ["JEMPUT", "1.0"]
#: 1.015 DCS: character set index 003 of the standard's table, UTF-8.
CHARSET = ["003", "UTF-8"]
#: 1.011 NSR and 1.012 NTR: "00.00" because the transaction holds no Type-4 record.
NO_TYPE4_RESOLUTION = "00.00"
#: 14.024 FQM: the kit's own quality measure has no IBIA-registered vendor, so the vendor is
#: 0000 and the product 1 (Jemput's finger quality, version 1); 14.200 names it in words.
QUALITY_VENDOR = "0000"
QUALITY_PRODUCT = "1"
QUALITY_NAME = "JEMPUT FINGER QUALITY 1 (NFIQ 2 FEATURES, OWN FORMULA; 0-100)"
#: 14.024 QVU when the record carries no score: "not computed".
NO_SCORE = 254
#: Type-8 vectors are in 0.001 inch; the signature pad reports counts, taken at this many
#: per inch (Topaz's figure for its serial pads: the record keeps counts, not inches).
PAD_COUNTS_PER_INCH = 410
#: Type-8 pen pressure: 0 lifts the pen after the vector, 1..254 is the pressure, 255 ends
#: the list.  The pad reports touching, not pressure: a touching point gets the middle.
PEN_UP, PEN_DOWN, END_OF_VECTORS = 0, 127, 255
#: Type-8 SIG (0: the subject's own signature) and SRT (2: vectors).
SUBJECT_SIGNATURE, VECTOR_DATA = 0, 2
#: The traditional encoding's separators (FS, GS, RS, US) and the other C0 controls: no
#: text field may carry them.
_CONTROLS = frozenset(chr(code) for code in range(0x20)) | {"\x7f"}

_SEX = {Sex.MALE: "M", Sex.FEMALE: "F"}
_YES_NO = {True: "Y", False: "N"}


#: 1.007 DAI unless the office gives another: the national directorate, Ditjen Dukcapil.
DEFAULT_DAI = "DITJEN-DUKCAPIL"


@dataclass(frozen=True)
class Agencies:
    """Type-1's originating agency (the office that exports; also the SRC of the image
    records) and destination agency (the national system).

    Without an ``ori`` each record's is that of the office of its kit's region (the
    certificate's), ``DISDUKCAPIL-<region>``.
    """

    ori: str | None
    dai: str

    def __post_init__(self) -> None:
        for name, value in (("--ori", self.ori), ("--dai", self.dai)):
            if value is not None and not (value.isascii() and value.isprintable() and value):
                raise BadAgency(
                    f"{name} {value!r}: kode instansi di record Type-1 hanya boleh huruf, angka "
                    "dan tanda baca ASCII"
                )

    def ori_of(self, record: LiveRecord) -> str:
        return self.ori or f"DISDUKCAPIL-{record.certificate.region}"


#: A field's value: one text, subfields of information items, or None (field left out).
Value = str | list[list[str]] | None


@dataclass(frozen=True)
class Type2Field:
    """One field of Jemput's Type-2 record: number, mnemonic, meaning, and its value."""

    number: int
    mnemonic: str
    meaning: str
    value: Callable[[LiveRecord], Value]


def _local_day(record: LiveRecord, moment: datetime) -> str:
    """``moment``'s date on the kit's clock (the offset the enrolment started with)."""
    return moment.astimezone(record.enrolment.started_at.tzinfo).strftime("%Y%m%d")


def _gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def _resident(attribute: str) -> Callable[[LiveRecord], Value]:
    return lambda r: getattr(r.enrolment.resident, attribute) or None


def _domicile(r: LiveRecord) -> Value:
    d = r.enrolment.domicile
    return None if d is None else [[d.kk_number, d.home_regency]]


def _corrections(r: LiveRecord) -> Value:
    items = [[c.field.value, c.original, c.new, c.approved_by] for c in r.enrolment.corrections]
    return items or None


def _flagged(r: LiveRecord) -> Value:
    return [[f.field.value, f.reason.value] for f in r.enrolment.flagged] or None


def _signature_exception(r: LiveRecord) -> Value:
    e = r.enrolment.signature_exception
    return None if e is None else [[e.reason.value, e.approved_by]]


def _finger_exceptions(r: LiveRecord) -> Value:
    items = [
        [str(int(f.position)), f.exception, f.approved_by or ""]
        for f in sorted(r.enrolment.fingers, key=lambda f: f.position)
        if f.exception is not None
    ]
    return items or None


def _birth_date(r: LiveRecord) -> Value:
    return r.enrolment.resident.birth_date.strftime("%Y%m%d")


def _sex(r: LiveRecord) -> Value:
    return _SEX[r.enrolment.resident.sex]


def _card_from(r: LiveRecord) -> Value:
    day = r.enrolment.card_from
    return None if day is None else day.strftime("%Y%m%d")


def _kind(r: LiveRecord) -> Value:
    return r.header.kind.value


def _purpose(r: LiveRecord) -> Value:
    return r.header.purpose.value


def _official(r: LiveRecord) -> Value:
    return r.header.official_id


def _kit(r: LiveRecord) -> Value:
    return r.header.kit_id


def _seq(r: LiveRecord) -> Value:
    return str(r.header.seq)


def _officer(r: LiveRecord) -> Value:
    return r.header.officer_id


def _sealed(r: LiveRecord) -> Value:
    return _gmt(r.header.sealed_at)


def _walk_in(r: LiveRecord) -> Value:
    return _YES_NO[r.header.walk_in]


#: Jemput's Type-2 fields (domain JEMPUT 1.0), all in the range the standard leaves to the
#: domain.  docs/interchange.md has the same table; a test keeps the two equal.
TYPE2_FIELDS: tuple[Type2Field, ...] = (
    Type2Field(3, "NIK", "NIK, 16 digits", _resident("nik")),
    Type2Field(4, "NAM", "name as on the card", _resident("name")),
    Type2Field(5, "POB", "place of birth (tempat lahir)", _resident("birth_place")),
    Type2Field(6, "DOB", "date of birth, YYYYMMDD", _birth_date),
    Type2Field(7, "SEX", "M (LAKI-LAKI) or F (PEREMPUAN)", _sex),
    Type2Field(8, "PRV", "province (provinsi)", _resident("province")),
    Type2Field(9, "RGC", "regency or city (kabupaten/kota)", _resident("regency")),
    Type2Field(10, "DST", "district (kecamatan)", _resident("district")),
    Type2Field(11, "VLG", "village (kelurahan/desa)", _resident("village")),
    Type2Field(12, "ADR", "address (alamat)", _resident("address")),
    Type2Field(13, "RTW", "RT/RW", _resident("rt_rw")),
    Type2Field(14, "REL", "religion (agama)", _resident("religion")),
    Type2Field(15, "MAR", "marital status (status perkawinan)", _resident("marital_status")),
    Type2Field(16, "OCP", "occupation (pekerjaan)", _resident("occupation")),
    Type2Field(17, "BLD", "blood type (golongan darah)", _resident("blood_type")),
    Type2Field(18, "CTZ", "citizenship (kewarganegaraan)", _resident("citizenship")),
    Type2Field(19, "KND", "card: E-KTP or KIA", _kind),
    Type2Field(20, "PUR", "purpose (keperluan): BARU, HILANG, RUSAK, PERUBAHAN DATA", _purpose),
    Type2Field(21, "OFF", "village official present (id)", _official),
    Type2Field(22, "KIT", "kit id", _kit),
    Type2Field(23, "SEQ", "the record's sequence number on its kit", _seq),
    Type2Field(24, "OFR", "officer who recorded (id)", _officer),
    Type2Field(25, "SLD", "sealed at, YYYYMMDDHHMMSSZ (UTC)", _sealed),
    Type2Field(26, "WLK", "walk-in: Y or N", _walk_in),
    Type2Field(27, "WLR", "the village worklist's reference", _resident("worklist_ref")),
    Type2Field(28, "DMC", "temporary domicile: KK number, home regency code", _domicile),
    Type2Field(
        29, "COR", "corrections: field, original, new value, approving official", _corrections
    ),
    Type2Field(30, "FLG", "free-text errors flagged for the office: field, reason", _flagged),
    Type2Field(31, "SGX", "no signature: reason, approving supervisor", _signature_exception),
    Type2Field(32, "CRD", "a first-time voter's card waits until, YYYYMMDD", _card_from),
    Type2Field(
        33, "FEX", "finger exceptions: position, the kit's reason, approver", _finger_exceptions
    ),
)


def load_writer() -> ModuleType:
    """The `nistitl` package (the `interchange` extra); CodecMissing if absent."""
    try:
        import nistitl
    except ImportError as exc:
        raise CodecMissing(
            "penulis ANSI/NIST-ITL tidak terpasang: pasang paket ekspor dengan "
            "pip install 'jemput[interchange]' lalu ulangi"
        ) from exc
    return nistitl


def _checked(value: str, where: str) -> str:
    """``value`` as nistitl writes it: UTF-8 bytes read as Latin-1; no separator inside."""
    bad = sorted(_CONTROLS & set(value))
    if bad:
        raise UnfitRecord(
            f"{where} memuat karakter kendali {', '.join(f'0x{ord(c):02X}' for c in bad)} yang "
            "tidak boleh ada dalam berkas ANSI/NIST-ITL; perbaiki datanya di kantor"
        )
    return value.encode("utf-8").decode("latin-1")


def _encoded(value: str | list[list[str]], where: str) -> str | list[list[str]]:
    if isinstance(value, str):
        return _checked(value, where)
    return [[_checked(item, where) for item in subfield] for subfield in value]


class _Builder:
    """Adds records to one nistitl message, numbering their IDC 0, 1, 2 ... in order."""

    def __init__(self, lib: ModuleType, record: LiveRecord) -> None:
        self.lib = lib
        self.record = record
        self.message = lib.Message()
        self.idc = 0

    def text_record(
        self, kind: int, fields: Sequence[tuple[int, Value]], data: bytes | None
    ) -> None:
        """A tagged-field record: its fields in order, then 999 DATA if ``data``."""
        record = self.lib.AsciiRecord(kind)
        record.IDC = self.idc
        self.idc += 1
        for number, value in fields:
            if value is not None:
                where = f"field {kind}.{number:03d}"
                record += self.lib.Field(kind, number, _encoded(value, where))
        if data is not None:
            record += self.lib.BinaryField(kind, 999, data)
        self.message += record

    def binary_record(self, kind: int, body: bytes) -> None:
        """A binary record (Type-8): LEN and IDC are nistitl's, ``body`` the rest."""
        record = self.lib.BinaryRecord(kind)
        record.IDC = self.idc
        self.idc += 1
        record.value = body
        self.message += record


def _type1(builder: _Builder, agencies: Agencies) -> None:
    r = builder.record
    first = builder.message[0]
    first.VER = VERSION
    first.TOT = TRANSACTION_TYPE
    first.DAT = _local_day(r, r.header.sealed_at)
    first.DAI = agencies.dai
    first.ORI = agencies.ori_of(r)
    first.TCN = r.reference
    first.NSR = NO_TYPE4_RESOLUTION
    first.NTR = NO_TYPE4_RESOLUTION
    first.DOM = [DOMAIN]
    first.GMT = _gmt(r.header.sealed_at)
    first.DCS = [CHARSET]


def _vectors(strokes: Sequence[Sequence[tuple[int, int]]]) -> bytes:
    """The signature as Type-8 vectors: 0.001 inch from its bottom-left corner, y up."""
    points = [point for stroke in strokes for point in stroke]
    left = min(x for x, _ in points)
    bottom = max(y for _, y in points)  # the pad counts y downwards

    def mils(count: int) -> int:
        return round(count * 1000 / PAD_COUNTS_PER_INCH)

    out = bytearray()
    for stroke in strokes:
        for index, (x, y) in enumerate(stroke):
            pressure = PEN_DOWN if index < len(stroke) - 1 else PEN_UP
            out += struct.pack(">HHB", mils(x - left), mils(bottom - y), pressure)
    out += struct.pack(">HHB", 0, 0, END_OF_VECTORS)
    return bytes(out)


def _type8(builder: _Builder) -> None:
    strokes = [s for s in builder.record.enrolment.signature_strokes if s]
    if strokes:
        # SIG, SRT, ISR (0 for vectors), HLL and VLL (0: vectors have no raster)
        head = struct.pack(">BBBHH", SUBJECT_SIGNATURE, VECTOR_DATA, 0, 0, 0)
        builder.binary_record(8, head + _vectors(strokes))


def _type10(builder: _Builder, face: Face, agencies: Agencies) -> None:
    r = builder.record
    fields: list[tuple[int, Value]] = [
        (3, "FACE"),  # IMT
        (4, agencies.ori_of(r)),  # SRC
        (5, _local_day(r, r.enrolment.started_at)),  # PHD: photo date
        (6, str(face.width)),  # HLL
        (7, str(face.height)),  # VLL
        (8, "0"),  # SLC: no physical scale, THPS:TVPS is the pixel aspect ratio
        (9, "1"),  # THPS
        (10, "1"),  # TVPS
        (11, "JPEGB"),  # CGA: baseline JPEG, the kit's own bytes
        (12, "GRAY" if face.grey else "YCC"),  # CSP
        (13, "1"),  # SAP: unknown profile (the kit checks its own measures, docs/quality.md)
        (20, "F"),  # POS: full face frontal
    ]
    builder.text_record(10, fields, face.jpeg)


def _amp(biometrics: Biometrics) -> Value:
    items = [[str(int(e.position)), e.code.value] for e in biometrics.excepted]
    return items or None


def _type14(builder: _Builder, finger: WsqFinger, amp: Value, agencies: Agencies) -> None:
    r = builder.record
    position = str(int(finger.position))
    score = NO_SCORE if finger.quality is None else finger.quality
    fields: list[tuple[int, Value]] = [
        (3, "0"),  # IMP: live-scan plain
        (4, agencies.ori_of(r)),  # SRC
        (5, _local_day(r, r.enrolment.started_at)),  # FCD: capture date
        (6, str(finger.size[0])),  # HLL
        (7, str(finger.size[1])),  # VLL
        (8, "1"),  # SLC: pixels per inch
        (9, str(FINGER_PPI)),  # THPS
        (10, str(FINGER_PPI)),  # TVPS
        (11, "WSQ20"),  # CGA: FBI WSQ specification 3.1
        (12, "8"),  # BPX
        (13, position),  # FGP
        (18, amp),  # AMP: the person's excepted fingers, XX or UP
        (24, [[position, str(score), QUALITY_VENDOR, QUALITY_PRODUCT]]),  # FQM
        (200, QUALITY_NAME),  # user-defined: the quality algorithm in words
        (201, _YES_NO[finger.forced]),  # user-defined: kept below the quality threshold
    ]
    builder.text_record(14, fields, finger.wsq)


def _type2(builder: _Builder) -> None:
    fields = [(f.number, f.value(builder.record)) for f in TYPE2_FIELDS]
    builder.text_record(2, fields, None)


def transaction(record: LiveRecord, biometrics: Biometrics, agencies: Agencies) -> bytes:
    """The record as one ANSI/NIST-ITL transaction; `UnfitRecord` if a text cannot go in."""
    builder = _Builder(load_writer(), record)
    _type1(builder, agencies)
    _type2(builder)
    _type8(builder)
    if biometrics.face is not None:
        _type10(builder, biometrics.face, agencies)
    amp = _amp(biometrics)
    for finger in biometrics.fingers:
        _type14(builder, finger, amp, agencies)
    data: bytes = builder.message.NIST
    return data
