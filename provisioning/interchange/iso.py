"""ISO/IEC 19794-4:2011 finger and 19794-5:2011 face records in a CBEFF file, as MOSIP's
registration packets carry a person's biometrics.

One CBEFF (ISO/IEC 19785-3, the XML patron format MOSIP uses) per live record: a child BIR
per finger with an image (its BDB a 19794-4 record holding that finger as WSQ), per
excepted finger (no BDB, MOSIP's ``EXCEPTION`` entry), and for the face (a 19794-5 record
holding the kit's JPEG as it is).  The byte layouts, field by field, are in
docs/interchange.md; nothing here depends on the moment of export, so a re-export is the
same file.

Why these records are packed here and not by a library: the one on PyPI (``iso19794``)
writes through Pillow plugins that no longer load on the Pillow the project uses, and the
layouts are a few fixed-width fields; the tests read them back with a parser of their own.
"""

from __future__ import annotations

import base64
import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from provisioning.interchange.images import FINGER_PPI, Biometrics, ExceptedFinger, WsqFinger
from provisioning.interchange.source import LiveRecord
from vocabulary.fingers import FingerPosition
from vocabulary.people import Sex

#: The CBEFF XML namespace MOSIP writes (ISO/IEC 19785-3, second edition).
NAMESPACE = "http://standards.iso.org/iso-iec/19785/-3/ed-2/"
#: BDB format owner as MOSIP names it (IBIA's registry: 257, ISO/IEC JTC 1 SC 37) and the
#: SC 37 format types: 7 finger image (19794-4), 8 face image (19794-5).
FORMAT_OWNER = "Mosip"
FINGER_FORMAT, FACE_FORMAT = 7, 8
#: The kit's finger quality measure, named in CBEFF's quality algorithm (docs/quality.md);
#: in the 19794-4 quality block it is vendor 0x0000 (none registered), algorithm 1.
QUALITY_ORGANIZATION = "Jemput"
QUALITY_ALGORITHM = "finger-quality-1"
QUALITY_VENDOR_ID, QUALITY_ALGORITHM_ID = 0x0000, 0x0001

#: MOSIP's subtype of each finger position.
FINGER_SUBTYPES = {
    FingerPosition.RIGHT_THUMB: "Right Thumb",
    FingerPosition.RIGHT_INDEX: "Right IndexFinger",
    FingerPosition.RIGHT_MIDDLE: "Right MiddleFinger",
    FingerPosition.RIGHT_RING: "Right RingFinger",
    FingerPosition.RIGHT_LITTLE: "Right LittleFinger",
    FingerPosition.LEFT_THUMB: "Left Thumb",
    FingerPosition.LEFT_INDEX: "Left IndexFinger",
    FingerPosition.LEFT_MIDDLE: "Left MiddleFinger",
    FingerPosition.LEFT_RING: "Left RingFinger",
    FingerPosition.LEFT_LITTLE: "Left LittleFinger",
}

# ISO/IEC 19794-4:2011 (finger image record, version 020)
_FIR_HEADER = struct.Struct(">4s4sIHBB")  # format id, version, length, representations,
# certification flag, distinct positions
_FIR_REPRESENTATION = struct.Struct(">BBBHHHHBBBHHI")  # position, representation number,
# scale units, capture h/v rate, image h/v rate, bit depth, compression, impression, width,
# height, image data length
_SCALE_PPI = 1
_COMPRESSION_WSQ = 2
_IMPRESSION_LIVE_PLAIN = 0

# ISO/IEC 19794-5:2011 (face image record, version 030)
_FAC_HEADER = struct.Struct(">4s4sIHBH")  # format id, version, length, representations,
# certification flag, temporal semantics
_FAC_FACIAL = struct.Struct(">HBBBB3s2s3s3s")  # landmark points, gender, eye colour, hair
# colour, subject height, property mask, expression, pose angle, pose angle uncertainty
_FAC_IMAGE = struct.Struct(">BBHHBHBB")  # face image type, image data type, width, height,
# spatial sampling rate level, post-acquisition processing, cross reference, colour space
_STILL_CAMERA = 2  # capture device technology: a static photograph from a digital camera
_FACE_BASIC, _DATA_JPEG = 0, 0
_COLOUR_RGB, _COLOUR_GREY = 1, 3
_GENDER = {Sex.MALE: 1, Sex.FEMALE: 2}

#: The common representation header: capture date and time (UTC), capture device
#: technology, vendor and type (0: not reported), and the count of quality blocks.
_CAPTURE = struct.Struct(">HBBBBBHBHHB")
_QUALITY_BLOCK = struct.Struct(">BHH")  # score, algorithm vendor, algorithm id


def _capture(moment: datetime, technology: int, quality_blocks: int) -> bytes:
    t = moment.astimezone(UTC)
    ms = t.microsecond // 1000
    return _CAPTURE.pack(
        t.year, t.month, t.day, t.hour, t.minute, t.second, ms, technology, 0, 0, quality_blocks
    )


def finger_record(finger: WsqFinger, captured: datetime) -> bytes:
    """One finger as an ISO/IEC 19794-4:2011 record with one representation (WSQ)."""
    blocks = b""
    if finger.quality is not None:
        blocks = _QUALITY_BLOCK.pack(finger.quality, QUALITY_VENDOR_ID, QUALITY_ALGORITHM_ID)
    width, height = finger.size
    body = (
        _capture(captured, 0, len(blocks) // _QUALITY_BLOCK.size)
        + blocks
        + _FIR_REPRESENTATION.pack(
            int(finger.position),
            1,
            _SCALE_PPI,
            FINGER_PPI,
            FINGER_PPI,
            FINGER_PPI,
            FINGER_PPI,
            8,
            _COMPRESSION_WSQ,
            _IMPRESSION_LIVE_PLAIN,
            width,
            height,
            len(finger.wsq),
        )
        + finger.wsq
    )
    representation = struct.pack(">I", 4 + len(body)) + body
    total = _FIR_HEADER.size + len(representation)
    return _FIR_HEADER.pack(b"FIR\0", b"020\0", total, 1, 0, 1) + representation


def face_record(record: LiveRecord, biometrics: Biometrics) -> bytes | None:
    """The face as an ISO/IEC 19794-5:2011 record (the kit's JPEG as it is), if any."""
    face = biometrics.face
    if face is None:
        return None
    gender = _GENDER[record.enrolment.resident.sex]
    colour = _COLOUR_GREY if face.grey else _COLOUR_RGB
    body = (
        _capture(record.enrolment.started_at, _STILL_CAMERA, 0)
        + _FAC_FACIAL.pack(0, gender, 0, 0, 0, b"\0\0\0", b"\0\0", b"\0\0\0", b"\0\0\0")
        + _FAC_IMAGE.pack(_FACE_BASIC, _DATA_JPEG, face.width, face.height, 0, 0, 0, colour)
        + face.jpeg
    )
    representation = struct.pack(">I", 4 + len(body)) + body
    total = _FAC_HEADER.size + len(representation)
    return _FAC_HEADER.pack(b"FAC\0", b"030\0", total, 1, 0, 0) + representation


def _element(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
    if text is not None:
        child.text = text
    return child


def _version(parent: ET.Element, tag: str) -> None:
    version = _element(parent, tag)
    _element(version, "Major", "1")
    _element(version, "Minor", "1")


def _bir(
    root: ET.Element,
    *,
    format_type: int,
    created: datetime,
    kind: str,
    subtype: str | None,
    score: int | None,
    bdb: bytes | None,
    others: dict[str, str],
) -> None:
    """One child BIR in the order of the CBEFF schema (Version ... BDB, then MOSIP's others)."""
    bir = _element(root, "BIR")
    _version(bir, "Version")
    _version(bir, "CBEFFVersion")
    _element(_element(bir, "BIRInfo"), "Integrity", "false")
    info = _element(bir, "BDBInfo")
    form = _element(info, "Format")
    _element(form, "Organization", FORMAT_OWNER)
    _element(form, "Type", str(format_type))
    stamp = created.astimezone(UTC)
    _element(info, "CreationDate", stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp:%f}"[:3] + "Z")
    _element(info, "Type", kind)
    if subtype is not None:
        _element(info, "Subtype", subtype)
    _element(info, "Level", "Raw")
    _element(info, "Purpose", "Enroll")
    if score is not None:
        quality = _element(info, "Quality")
        algorithm = _element(quality, "Algorithm")
        _element(algorithm, "Organization", QUALITY_ORGANIZATION)
        _element(algorithm, "Type", QUALITY_ALGORITHM)
        _element(quality, "Score", str(score))
    if bdb is not None:
        _element(bir, "BDB", base64.b64encode(bdb).decode("ascii"))
    entries = _element(bir, "others")
    for key, value in others.items():
        _element(entries, "entry", value).set("key", key)


def _finger_bir(root: ET.Element, finger: WsqFinger, captured: datetime) -> None:
    _bir(
        root,
        format_type=FINGER_FORMAT,
        created=captured,
        kind="Finger",
        subtype=FINGER_SUBTYPES[finger.position],
        score=finger.quality,
        bdb=finger_record(finger, captured),
        others={"EXCEPTION": "false", "FORCE_CAPTURED": str(finger.forced).lower()},
    )


def _exception_bir(root: ET.Element, excepted: ExceptedFinger, captured: datetime) -> None:
    _bir(
        root,
        format_type=FINGER_FORMAT,
        created=captured,
        kind="Finger",
        subtype=FINGER_SUBTYPES[excepted.position],
        score=None,
        bdb=None,
        others={"EXCEPTION": "true", "EXCEPTION_REASON": excepted.reason},
    )


def cbeff(record: LiveRecord, biometrics: Biometrics) -> bytes:
    """The record's biometrics as one CBEFF XML file (UTF-8), fingers by position, then face."""
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}BIR")
    _element(_element(root, "BIRInfo"), "Integrity", "false")
    captured = record.enrolment.started_at
    done: dict[FingerPosition, WsqFinger | ExceptedFinger] = {
        **{f.position: f for f in biometrics.fingers},
        **{e.position: e for e in biometrics.excepted},
    }
    for position in sorted(done):
        item = done[position]
        if isinstance(item, WsqFinger):
            _finger_bir(root, item, captured)
        else:
            _exception_bir(root, item, captured)
    face = face_record(record, biometrics)
    if face is not None:
        others = {"EXCEPTION": "false"}
        _bir(
            root,
            format_type=FACE_FORMAT,
            created=captured,
            kind="Face",
            subtype=None,
            score=None,
            bdb=face,
            others=others,
        )
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"
