"""A strict reader of ANSI/NIST-ITL 1-2011 transactions in the traditional encoding.

The product writes its transactions with the `nistitl` package, which also reads them, so
a read-back with it would only show that the library agrees with itself.  This reader is
written from the standard's own grammar instead, and shares no code with the product:

* a tagged-field record (Types 1, 2, 9-99) is fields ``R.NNN:value`` separated by GS
  (0x1D) and ended by FS (0x1C); its first field is ``R.001`` LEN, the record's length in
  bytes including the FS; its second is ``1.002`` VER (Type-1) or ``R.002`` IDC; a field
  ``R.999`` DATA, if any, is the last and runs to the byte before the FS; a text value is
  subfields separated by RS (0x1E) of information items separated by US (0x1F); no tag
  twice; Type-1 is 7-bit ASCII;
* a binary record (Types 3-8) starts with a 4-byte big-endian LEN and a 1-byte IDC; the
  Type-8 layout follows (SIG, SRT, ISR, HLL, VLL, then the data);
* Type-1's CNT (1.003) names, in order, every other record's type and IDC: its first
  subfield is ``1`` and the count of other records, and the records that follow must be
  exactly those; the transaction ends with the last record's last byte.

Anything else raises `Malformed` naming the offset.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

FS, GS, RS, US = b"\x1c", b"\x1d", b"\x1e", b"\x1f"
BINARY_TYPES = frozenset({3, 4, 5, 6, 7, 8})
_TAG = re.compile(rb"(\d{1,2})\.(\d{3,}):")
#: Fields each record type must carry (ANSI/NIST-ITL 1-2011, Type-10 with IMT FACE).
MANDATORY = {
    1: {1, 2, 3, 4, 5, 7, 8, 9, 11, 12},
    2: {1, 2},
    10: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 999},
    14: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 999},
}


class Malformed(ValueError):
    """Bytes that break the traditional encoding's grammar."""


@dataclass
class Record:
    """One record: its type, IDC, length and fields (text fields as subfields of items)."""

    type: int
    idc: int
    length: int
    fields: dict[int, list[list[str]]] = field(default_factory=dict)
    data: bytes | None = None
    #: Type-8 only: SIG, SRT, ISR, HLL, VLL.
    binary_header: tuple[int, int, int, int, int] | None = None

    def text(self, number: int) -> str:
        """A field of one subfield of one item, as text."""
        value = self.fields[number]
        if len(value) != 1 or len(value[0]) != 1:
            raise Malformed(f"field {self.type}.{number:03d} is not a single value: {value}")
        return value[0][0]


def _decode(value: bytes, record_type: int, where: int) -> list[list[str]]:
    encoding = "ascii" if record_type == 1 else "utf-8"
    try:
        text = value.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Malformed(f"offset {where}: field is not {encoding}: {exc}") from exc
    if FS.decode() in text or GS.decode() in text:
        raise Malformed(f"offset {where}: separator inside a field")
    return [subfield.split(US.decode()) for subfield in text.split(RS.decode())]


def _tagged(data: bytes, offset: int, expected: int) -> Record:
    head = _TAG.match(data, offset)
    if head is None or int(head.group(2)) != 1:
        raise Malformed(f"offset {offset}: a record must start with its LEN field R.001:")
    end_of_len = data.find(GS, head.end())
    length = int(data[head.end() : end_of_len].decode("ascii"))
    if int(head.group(1)) != expected:
        raise Malformed(f"offset {offset}: record of type {head.group(1)!r}, CNT says {expected}")
    if offset + length > len(data) or data[offset + length - 1 : offset + length] != FS:
        raise Malformed(f"offset {offset}: LEN {length} does not end on an FS")
    record = Record(expected, -1, length)
    end = offset + length - 1  # the FS
    position = offset
    while position < end:
        tag = _TAG.match(data, position)
        if tag is None or int(tag.group(1)) != expected:
            raise Malformed(f"offset {position}: no tag {expected}.NNN: here")
        number = int(tag.group(2))
        if number in record.fields or (number == 999 and record.data is not None):
            raise Malformed(f"offset {position}: field {expected}.{number:03d} twice")
        if number == 999:
            record.data = data[tag.end() : end]
            position = end
            break
        stop = data.find(GS, tag.end(), end)
        stop = end if stop == -1 else stop
        record.fields[number] = _decode(data[tag.end() : stop], expected, tag.end())
        position = stop if stop == end else stop + 1
    if position != end:
        raise Malformed(f"offset {position}: record does not end where LEN says ({end})")
    numbers = list(record.fields)
    if numbers[:2] != [1, 2]:
        raise Malformed(f"record type {expected}: first fields are {numbers[:2]}, not LEN, 002")
    if int(record.text(1)) != length:
        raise Malformed(f"record type {expected}: LEN field {record.text(1)} != {length}")
    if expected != 1:
        record.idc = int(record.text(2))
    missing = MANDATORY.get(expected, {1, 2}) - set(numbers) - ({999} if record.data else set())
    if missing:
        raise Malformed(f"record type {expected} lacks mandatory fields {sorted(missing)}")
    return record


def _binary(data: bytes, offset: int, expected: int) -> Record:
    if offset + 5 > len(data):
        raise Malformed(f"offset {offset}: binary record header cut short")
    length, idc = struct.unpack_from(">IB", data, offset)
    if length < 5 or offset + length > len(data):
        raise Malformed(f"offset {offset}: binary LEN {length} runs past the transaction")
    record = Record(expected, idc, length)
    if expected == 8:
        if length < 12:
            raise Malformed(f"offset {offset}: Type-8 shorter than its 12-byte header")
        record.binary_header = struct.unpack_from(">BBBHH", data, offset + 5)
        record.data = data[offset + 12 : offset + length]
    else:
        record.data = data[offset + 5 : offset + length]
    return record


def parse(data: bytes) -> list[Record]:
    """Every record of a transaction, Type-1 first, checked against the grammar and CNT."""
    first = _tagged(data, 0, 1)
    count = first.fields[3]
    if count[0][0] != "1" or int(count[0][1]) != len(count) - 1:
        raise Malformed(f"CNT's first subfield {count[0]} does not count the other records")
    records = [first]
    offset = first.length
    for kind, idc in count[1:]:
        expected = int(kind)
        parser = _binary if expected in BINARY_TYPES else _tagged
        record = parser(data, offset, expected)
        if record.idc != int(idc):
            raise Malformed(f"record type {expected} has IDC {record.idc}, CNT says {idc}")
        records.append(record)
        offset += record.length
    if offset != len(data):
        raise Malformed(f"{len(data) - offset} bytes after the last record CNT names")
    idcs = [r.idc for r in records[1:]]
    if len(set(idcs)) != len(idcs):
        raise Malformed(f"IDCs repeat: {idcs}")
    return records


def type8_vectors(record: Record) -> list[tuple[int, int, int]]:
    """A Type-8 record's vectors (x, y, pressure), ended by pressure 255 and only there."""
    data = record.data or b""
    if len(data) % 5:
        raise Malformed(f"Type-8 vector data of {len(data)} bytes is not whole 5-byte vectors")
    vectors = [struct.unpack_from(">HHB", data, at) for at in range(0, len(data), 5)]
    if not vectors or vectors[-1][2] != 255 or any(p == 255 for _, _, p in vectors[:-1]):
        raise Malformed("Type-8 vectors do not end with exactly one end-of-list (255)")
    return vectors[:-1]


def dump(records: list[Record]) -> str:
    """The transaction record by record, as docs/interchange.md shows it (RS as ␞, US as ␟,
    binary data by its size)."""
    lines = []
    for record in records:
        idc = "" if record.type == 1 else f"IDC {record.idc}, "
        lines.append(f"Type-{record.type} ({idc}{record.length} bytes)")
        for number, value in record.fields.items():
            text = "␞".join("␟".join(items) for items in value)
            lines.append(f"  {record.type}.{number:03d}: {text}")
        if record.binary_header is not None:
            names = ("SIG", "SRT", "ISR", "HLL", "VLL")
            pairs = zip(names, record.binary_header, strict=True)
            lines.append("  " + ", ".join(f"{n} {v}" for n, v in pairs))
        if record.data is not None:
            label = f"{record.type}.999" if record.binary_header is None else "DATA"
            lines.append(f"  {label}: <{len(record.data)} bytes>")
    return "\n".join(lines)
