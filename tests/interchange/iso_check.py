"""A strict structural reader of the ISO export: CBEFF XML, 19794-4 and 19794-5 records.

Written from the standards' layouts (as docs/interchange.md sets them out), sharing no
code with the product: every length field must add up to the bytes there are, every
fixed field must hold a value the standard allows, and the image data must be exactly as
long as its record says.  The XML is read by the standard library's parser.
"""

from __future__ import annotations

import base64
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

NS = {"c": "http://standards.iso.org/iso-iec/19785/-3/ed-2/"}


class Malformed(ValueError):
    """A file that breaks the layout it claims."""


@dataclass(frozen=True)
class FingerImage:
    position: int
    width: int
    height: int
    ppi: int
    compression: int
    impression: int
    quality: list[tuple[int, int, int]]
    captured: datetime
    data: bytes


@dataclass(frozen=True)
class FaceImage:
    gender: int
    width: int
    height: int
    data_type: int
    colour_space: int
    captured: datetime
    data: bytes


@dataclass(frozen=True)
class Bir:
    """One child BIR of the CBEFF file."""

    format_type: int
    kind: str
    subtype: str | None
    score: int | None
    bdb: bytes | None
    others: dict[str, str]


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise Malformed(message)


def _capture(data: bytes, at: int) -> tuple[datetime, int, int]:
    """The representation's capture date-time, technology and quality-block count."""
    year, month, day, hour, minute, second, ms, tech, _vendor, _type, blocks = struct.unpack_from(
        ">HBBBBBHBHHB", data, at
    )
    return datetime(year, month, day, hour, minute, second, ms * 1000), tech, blocks


def finger_record(data: bytes) -> FingerImage:
    """An ISO/IEC 19794-4:2011 record with exactly one representation."""
    magic, version, length, count, certified, positions = struct.unpack_from(">4s4sIHBB", data)
    _need(magic == b"FIR\0" and version == b"020\0", f"not a 19794-4:2011 record: {data[:8]!r}")
    _need(length == len(data), f"record length {length} != {len(data)} bytes")
    _need((count, certified, positions) == (1, 0, 1), "one representation, uncertified")
    (rep_length,) = struct.unpack_from(">I", data, 16)
    _need(16 + rep_length == len(data), "representation length does not fill the record")
    captured, _tech, blocks = _capture(data, 20)
    at = 20 + 15
    quality = [struct.unpack_from(">BHH", data, at + 5 * i) for i in range(blocks)]
    at += 5 * blocks
    fields = struct.unpack_from(">BBBHHHHBBBHHI", data, at)
    position, _number, scale, *rates, depth, compression, impression, width, height, size = fields
    at += 22
    _need(1 <= position <= 10, f"finger position {position}")
    _need(scale == 1 and len(set(rates)) == 1, f"scale {scale}, rates {rates}")
    _need(depth == 8 and compression in range(7), f"bit depth {depth}, compression {compression}")
    _need(at + size == len(data), f"image data length {size} != {len(data) - at} bytes left")
    return FingerImage(
        position, width, height, rates[0], compression, impression, quality, captured, data[at:]
    )


def face_record(data: bytes) -> FaceImage:
    """An ISO/IEC 19794-5:2011 record with exactly one 2D representation."""
    magic, version, length, count, certified, _temporal = struct.unpack_from(">4s4sIHBH", data)
    _need(magic == b"FAC\0" and version == b"030\0", f"not a 19794-5:2011 record: {data[:8]!r}")
    _need(length == len(data), f"record length {length} != {len(data)} bytes")
    _need((count, certified) == (1, 0), "one representation, uncertified")
    (rep_length,) = struct.unpack_from(">I", data, 17)
    _need(17 + rep_length == len(data), "representation length does not fill the record")
    captured, _tech, blocks = _capture(data, 21)
    at = 21 + 15 + 5 * blocks
    landmarks, gender = struct.unpack_from(">HB", data, at)
    _need(gender in (0, 1, 2, 255), f"gender {gender}")
    at += 17 + 8 * landmarks
    face_type, data_type, width, height, _rate, _post, _cross, colour = struct.unpack_from(
        ">BBHHBHBB", data, at
    )
    at += 11
    _need(face_type & 0x80 == 0, "a 3D face image: not what the kit takes")
    _need(data_type in range(4) and colour in range(5), f"data type {data_type}, colour {colour}")
    return FaceImage(gender, width, height, data_type, colour, captured, data[at:])


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else found.text


def cbeff(data: bytes) -> list[Bir]:
    """The child BIRs of a MOSIP-style CBEFF file, each checked for its required parts."""
    root = ET.fromstring(data)
    _need(root.tag == f"{{{NS['c']}}}BIR", f"root element {root.tag}")
    _need(_text(root, "c:BIRInfo/c:Integrity") == "false", "root BIRInfo/Integrity")
    birs = []
    for child in root.findall("c:BIR", NS):
        order = [element.tag.split("}")[1] for element in child]
        expected = ["Version", "CBEFFVersion", "BIRInfo", "BDBInfo", "BDB", "others"]
        _need(order == [tag for tag in expected if tag in order], f"BIR parts in order {order}")
        _need(_text(child, "c:BDBInfo/c:Format/c:Organization") is not None, "BDB format owner")
        score = _text(child, "c:BDBInfo/c:Quality/c:Score")
        bdb = _text(child, "c:BDB")
        others = {e.get("key", ""): e.text or "" for e in child.findall("c:others/c:entry", NS)}
        birs.append(
            Bir(
                int(_text(child, "c:BDBInfo/c:Format/c:Type") or "-1"),
                _text(child, "c:BDBInfo/c:Type") or "",
                _text(child, "c:BDBInfo/c:Subtype"),
                None if score is None else int(score),
                None if bdb is None else base64.b64decode(bdb, validate=True),
                others,
            )
        )
    return birs
