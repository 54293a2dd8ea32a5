"""Deterministic CBOR out, strict CBOR in: the only way `storage` turns values into bytes.

Why our own encoder for containers: cbor2 6's ``canonical=True`` sorts map keys
length-first (RFC 7049 "canonical"), not by the bytewise order of their encodings that
RFC 8949 section 4.2.1 ("core deterministic encoding") asks for; the two disagree as soon
as keys of different lengths mix (``-1`` encodes as ``20``, ``24`` as ``18 18``: bytewise
``24`` comes first, length-first ``-1`` does).  So scalars are encoded by cbor2 (integers
and strings are always shortest there; floats are shortest with ``canonical=True``) and
arrays, maps and tags are assembled here, maps sorted bytewise by encoded key.

Why the decoder is strict: record bytes come from SD cards and cables an attacker may
hold.  ``loads`` refuses duplicate keys, indefinite lengths, trailing bytes, oversized
input, deep nesting, and any encoding that is not the deterministic one (it re-encodes the
decoded value and compares), so one record has exactly one byte string.  The bytes that
were hashed and signed are still the ones kept: the re-encoding is only a check.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping
from typing import Any

import cbor2

from storage.errors import RecordError

#: Refuse inputs larger than this by default: a record with ten finger images is ~0.5 MB.
MAX_BYTES = 8 * 1024 * 1024
#: Records nest about six levels deep; anything far deeper is an attack on the decoder.
MAX_DEPTH = 16

_MAJOR_ARRAY = 4
_MAJOR_MAP = 5
_MAJOR_TAG = 6

#: What cbor2 raises on malformed input besides its own errors (bad UTF-8, huge tags...).
_DECODE_FAILURES = (
    cbor2.CBORError,
    ValueError,
    TypeError,
    OverflowError,
    KeyError,
    IndexError,
    RecursionError,
)


class Tampered(RecordError):
    """Bytes that do not decode into the structure they claim to be."""


class CodecError(Tampered):
    """Bytes that are not strict, deterministic CBOR, or a value CBOR cannot carry."""


class Truncated(CodecError):
    """Bytes that end before the CBOR item they start is complete."""


def _head(major: int, argument: int) -> bytes:
    """The shortest initial byte(s) for a major type and its length or tag number."""
    if argument < 24:
        return bytes([major << 5 | argument])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            return bytes([major << 5 | info]) + argument.to_bytes(size, "big")
    raise CodecError(f"length or tag {argument} does not fit in 64 bits")


def _encode(obj: Any, out: list[bytes]) -> None:
    if obj is None or isinstance(obj, bool | int | str | bytes):
        out.append(cbor2.dumps(obj))
    elif isinstance(obj, float):
        out.append(cbor2.dumps(obj, canonical=True))
    elif isinstance(obj, list | tuple):
        out.append(_head(_MAJOR_ARRAY, len(obj)))
        for item in obj:
            _encode(item, out)
    elif isinstance(obj, Mapping):
        pairs = sorted((dumps(key), dumps(value)) for key, value in obj.items())
        for (key, _), (following, _) in itertools.pairwise(pairs):
            if key == following:
                raise CodecError(f"map has two keys that encode as {key.hex()}")
        out.append(_head(_MAJOR_MAP, len(pairs)))
        out.extend(part for pair in pairs for part in pair)
    elif isinstance(obj, cbor2.CBORTag):
        out.append(_head(_MAJOR_TAG, obj.tag))
        _encode(obj.value, out)
    else:
        raise CodecError(f"records carry no {type(obj).__name__} values")


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` in RFC 8949 core deterministic form (definite, shortest, sorted).

    Accepts None, bool, int, float, str, bytes, list/tuple, mappings and ``cbor2.CBORTag``;
    anything else raises `CodecError` rather than picking an encoding silently.
    """
    out: list[bytes] = []
    _encode(obj, out)
    return b"".join(out)


def loads(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    deterministic: bool = True,
) -> Any:
    """Decode one CBOR item that must fill ``data`` exactly; every failure is `CodecError`.

    Arrays decode as lists at top level and tuples inside tags, maps as dicts or
    frozendicts (cbor2 6).  With ``deterministic`` (the default) an item that is valid
    CBOR but not in `dumps` form is refused too, so the same value has one byte string.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CodecError(f"expected CBOR bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise CodecError(f"CBOR item of {len(data)} bytes exceeds the limit of {max_bytes}")
    if not data:
        raise Truncated("no bytes: the file or field is empty")
    stream = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(
        stream, max_depth=max_depth, allow_indefinite=False, allow_duplicate_keys=False
    )
    try:
        value = decoder.decode()
    except cbor2.CBORDecodeEOF as exc:
        raise Truncated(f"CBOR ends early after {len(data)} bytes: {exc}") from exc
    except _DECODE_FAILURES as exc:
        raise CodecError(f"not strict CBOR: {exc}") from exc
    if stream.tell() != len(data):
        raise CodecError(f"{len(data) - stream.tell()} trailing bytes after the CBOR item")
    if deterministic and dumps(value) != bytes(data):
        raise CodecError("CBOR is not in deterministic encoding (RFC 8949 section 4.2.1)")
    return value
