"""Deterministic CBOR out, strict CBOR in: the only way `storage` turns values into bytes.

Why our own encoder for containers: cbor2 6's ``canonical=True`` sorts map keys
length-first (RFC 7049 "canonical"), not by the bytewise order of their encodings that
RFC 8949 section 4.2.1 ("core deterministic encoding") asks for; the two disagree as soon
as keys of different lengths mix (``-1`` encodes as ``20``, ``24`` as ``18 18``: bytewise
``24`` comes first, length-first ``-1`` does).  So scalars are encoded by cbor2 (integers
and strings are always shortest there; floats are shortest with ``canonical=True``) and
arrays, maps and tags are assembled here, maps sorted bytewise by encoded key.  A
container whose maps have only short keys, where the two orders are one, is handed to
cbor2 whole (`_agrees`): a record's header and body are, and are not encoded a value at a
time.

Why the decoder is strict: record bytes come from SD cards and cables an attacker may
hold.  ``loads`` refuses duplicate keys, indefinite lengths, trailing bytes, oversized
input, deep nesting, and any encoding that is not the deterministic one (it re-encodes the
decoded value and compares as it goes, without a second copy), so one record has exactly
one byte string.  The bytes that
were hashed and signed are still the ones kept: the re-encoding is only a check.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, Self

import cbor2

from storage.errors import RecordError

#: Refuse inputs larger than this by default: a record with ten finger images is ~0.5 MB.
MAX_BYTES = 8 * 1024 * 1024
#: Records nest about six levels deep; anything far deeper is an attack on the decoder.
MAX_DEPTH = 16

_MAJOR_BYTES = 2
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


@dataclass(frozen=True)
class Array:
    """An array given as its length and its items, encoded as the items come.

    Encodes as the list of the same items would, but a worklist of 100,000 residents is
    never held as 100,000 maps: each is made, encoded and dropped in turn.  Items beyond
    ``length``, or fewer, raise `CodecError`.
    """

    length: int
    items: Iterable[Any]


class _Sink(Protocol):
    def __iadd__(self, data: bytes, /) -> Self: ...


class _Hashing:
    """A sink that hashes what is encoded into it instead of keeping it."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def __iadd__(self, data: bytes, /) -> Self:
        self.hash.update(data)
        return self


class _Matching:
    """A sink that compares what is encoded into it with bytes already held, instead of
    keeping it: `loads` checks a record's encoding without building a second copy."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0
        self.same = True

    def __iadd__(self, chunk: bytes, /) -> Self:
        self.same = self.same and self.data.startswith(chunk, self.at)
        self.at += len(chunk)
        return self

    def whole(self) -> bool:
        """Whether the encoding matched the held bytes, all of them and no more."""
        return self.same and self.at == len(self.data)


def _array(length: int, items: Iterable[Any], out: _Sink) -> None:
    out += _head(_MAJOR_ARRAY, length)
    count = 0
    for count, item in enumerate(items, start=1):
        if count > length:
            raise CodecError(f"array of {length} items has more")
        _encode(item, out)
    if count != length:
        raise CodecError(f"array of {length} items has {count}")


def _key(key: Any) -> bytes:
    """A map key's encoding (a text key, nearly always, straight from cbor2)."""
    return cbor2.dumps(key) if type(key) is str else dumps(key)


#: Values cbor2 encodes as `dumps` does, shortest and without a container (their subclasses
#: too: an IntEnum is its integer, a StrEnum its text, to cbor2 and to `_encode` alike).
_SCALARS = (str, bytes, int, type(None))
#: Containers cbor2 encodes as arrays and maps, as `_encode` does (exactly these types:
#: no subclass; a map `loads` decodes inside a tag is cbor2's frozendict).
_ARRAYS = frozenset({list, tuple})
_MAPS = frozenset({dict, cbor2.frozendict})
_TEXT = frozenset({str})
#: The scalar types themselves, for a check at C speed before the general one.
_PLAIN = frozenset({str, bytes, int, bool, float, type(None)})
#: Keys whose encodings all have a one-byte head saying their length (text) or being the
#: value (-24..23): for them cbor2's length-first order is the bytewise one.
_KEY_LENGTH = 24


def _short_keys(keys: Iterable[Any]) -> bool:
    """Whether every key is short: text keys (nearly all) are checked at C speed, so a
    worklist of 100,000 residents does not pay a call per key."""
    if _TEXT.issuperset(map(type, keys)):
        return max(map(len, keys), default=0) < _KEY_LENGTH and "".join(keys).isascii()
    return all(map(_short_key, keys))


def _short_key(key: Any) -> bool:
    if type(key) is str:
        return len(key) < _KEY_LENGTH and key.isascii()
    return type(key) is int and -_KEY_LENGTH <= key < _KEY_LENGTH


def _agrees(obj: Any) -> bool:
    """Whether cbor2's own canonical encoding of ``obj`` is ours, so C may encode it whole.

    cbor2's canonical form differs from RFC 8949's core deterministic one only in the order
    of a map's keys (length-first, not bytewise); for short keys (`_short_keys`: ASCII text
    under 24 bytes, integers -24..23) the two orders are one: a text key's head byte grows
    with its length and sorts after every such integer's.  Scalars and floats are encoded
    by cbor2 either way (shortest), and a dict holds no key twice.  Anything else (a long
    or wide key, an `Array`, a value records do not carry) is left to `_encode`, level by
    level.  A record's header and body, a resident's map and a COSE structure all agree, as
    they are sealed and as `loads` decodes them.
    """
    kind = type(obj)  # containers first: a scalar inside one is checked by _PLAIN at C speed
    if kind in _ARRAYS:
        return _PLAIN.issuperset(map(type, obj)) or all(map(_agrees, obj))
    if kind in _MAPS:
        values = obj.values()
        return _short_keys(obj) and (
            _PLAIN.issuperset(map(type, values)) or all(map(_agrees, values))
        )
    if kind is cbor2.CBORTag:
        return _agrees(obj.value)
    return kind is float or isinstance(obj, _SCALARS)


def _encode(obj: Any, out: _Sink) -> None:
    if type(obj) is bytes:
        # the head, then the bytes themselves: an image is not copied to be encoded
        out += _head(_MAJOR_BYTES, len(obj))
        out += obj
    elif obj is None or isinstance(obj, bool | int | str | bytes):
        out += cbor2.dumps(obj)
    elif isinstance(obj, float) or _agrees(obj):
        out += cbor2.dumps(obj, canonical=True)
    elif isinstance(obj, list | tuple):
        _array(len(obj), obj, out)
    elif isinstance(obj, Array):
        _array(obj.length, obj.items, out)
    elif isinstance(obj, Mapping):
        # sorted by encoded key; each value is encoded straight after its key, never apart
        pairs = sorted(((_key(key), value) for key, value in obj.items()), key=lambda p: p[0])
        for (key, _), (following, _) in itertools.pairwise(pairs):
            if key == following:
                raise CodecError(f"map has two keys that encode as {key.hex()}")
        out += _head(_MAJOR_MAP, len(pairs))
        for key, value in pairs:
            out += key
            _encode(value, out)
    elif isinstance(obj, cbor2.CBORTag):
        out += _head(_MAJOR_TAG, obj.tag)
        _encode(obj.value, out)
    else:
        raise CodecError(f"records carry no {type(obj).__name__} values")


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` in RFC 8949 core deterministic form (definite, shortest, sorted).

    Accepts None, bool, int, float, str, bytes, list/tuple, `Array`, mappings and
    ``cbor2.CBORTag``; anything else raises `CodecError` rather than picking an encoding
    silently.  What cbor2 encodes as we do (`_agrees`) it encodes whole, straight into the
    bytes returned; anything else grows in one buffer, never as a piece per value.
    """
    if _agrees(obj):
        return cbor2.dumps(obj, canonical=True)
    out = bytearray()
    _encode(obj, out)
    return bytes(out)


def sha256(obj: Any) -> bytes:
    """SHA-256 of ``dumps(obj)``, hashed as it is encoded: the bytes are never held whole."""
    sink = _Hashing()
    _encode(obj, sink)
    return sink.hash.digest()


def loads(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    deterministic: bool = True,
    object_hook: Callable[[Mapping[Any, Any]], Any] | None = None,
) -> Any:
    """Decode one CBOR item that must fill ``data`` exactly; every failure is `CodecError`.

    Arrays decode as lists at top level and tuples inside tags, maps as dicts or
    frozendicts (cbor2 6).  With ``deterministic`` (the default) an item that is valid
    CBOR but not in `dumps` form is refused too, so the same value has one byte string.
    ``object_hook`` is given each map as it is decoded and returns what stands in its
    place (a worklist's resident: 100,000 maps are never held at once); the value is then
    no longer what `dumps` encodes, so the caller checks the encoding (``deterministic``
    must be False: `storage.profile.load_profile` encodes what it read again and compares).
    """
    if object_hook is not None and deterministic:
        raise ValueError("an object_hook changes the value: check its encoding yourself")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CodecError(f"expected CBOR bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise CodecError(f"CBOR item of {len(data)} bytes exceeds the limit of {max_bytes}")
    if not data:
        raise Truncated("no bytes: the file or field is empty")
    stream = io.BytesIO(data)

    def hook(value: Mapping[Any, Any], as_key: bool) -> Any:
        # a map used as a key stays a map (cbor2 hands it in frozen)
        return value if as_key or object_hook is None else object_hook(value)

    decoder = cbor2.CBORDecoder(
        stream,
        max_depth=max_depth,
        allow_indefinite=False,
        allow_duplicate_keys=False,
        object_hook=None if object_hook is None else hook,
    )
    try:
        value = decoder.decode()
    except cbor2.CBORDecodeEOF as exc:
        raise Truncated(f"CBOR ends early after {len(data)} bytes: {exc}") from exc
    except _DECODE_FAILURES as exc:
        raise CodecError(f"not strict CBOR: {exc}") from exc
    if stream.tell() != len(data):
        raise CodecError(f"{len(data) - stream.tell()} trailing bytes after the CBOR item")
    if deterministic and not _encodes_as(value, data):
        raise CodecError("CBOR is not in deterministic encoding (RFC 8949 section 4.2.1)")
    return value


def _encodes_as(value: Any, data: bytes | bytearray | memoryview) -> bool:
    """Whether ``dumps(value)`` is ``data``, compared as it is encoded (no second copy)."""
    held = data if type(data) is bytes else bytes(data)
    if _agrees(value):
        return cbor2.dumps(value, canonical=True) == held
    sink = _Matching(held)
    _encode(value, sink)
    return sink.whole()
