"""Deterministic CBOR out, strict CBOR in: round trips, known encodings, and refusals."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator, Mapping

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.codec import CodecError, Truncated, dumps, loads
from storage.errors import RecordError

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
)
keys = st.integers(min_value=-(2**40), max_value=2**40) | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


@given(values)
def test_round_trip_and_one_encoding_per_value(value: object) -> None:
    data = dumps(value)
    assert loads(data) == value
    assert dumps(loads(data)) == data


class _Finger(enum.IntEnum):
    THUMB = 1
    WIDE = 300


def _head(major: int, argument: int) -> bytes:
    if argument < 24:
        return bytes([major << 5 | argument])
    size = next(size for size in (1, 2, 4, 8) if argument < 1 << (8 * size))
    return bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[size]]) + argument.to_bytes(size, "big")


def _reference(value: object) -> bytes:
    """RFC 8949 core deterministic encoding assembled here a container at a time (scalars
    from cbor2, as the codec's own design has it): what any shortcut must still produce."""
    if isinstance(value, float):
        return cbor2.dumps(value, canonical=True)
    if value is None or isinstance(value, bool | int | str | bytes):
        return cbor2.dumps(value)
    if isinstance(value, list | tuple):
        return _head(4, len(value)) + b"".join(map(_reference, value))
    if isinstance(value, Mapping):
        pairs = sorted((_reference(key), _reference(item)) for key, item in value.items())
        return _head(5, len(pairs)) + b"".join(key + item for key, item in pairs)
    assert isinstance(value, cbor2.CBORTag)
    return _head(6, value.tag) + _reference(value.value)


# keys either side of the one-byte heads (-24..23, text under 24 bytes), where cbor2's
# length-first order and the bytewise one part
mixed_keys = (
    st.integers(min_value=-30, max_value=30)
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.text(max_size=30)
)
tagged = st.recursive(
    scalars | st.sampled_from(list(_Finger)),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(mixed_keys, inner, max_size=5)
        | st.builds(cbor2.CBORTag, st.sampled_from([18, 96, 2**20]), inner)
    ),
    max_leaves=30,
)


@given(tagged)
@settings(max_examples=300)
def test_every_value_encodes_as_the_reference_whichever_path_it_takes(value: object) -> None:
    """Most values are encoded by cbor2 whole (`storage.codec._agrees`), the rest a level at
    a time: the bytes are the same, and what loads gives back encodes to them again."""
    data = dumps(value)
    assert data == _reference(value)
    assert dumps(loads(data)) == data


@given(st.binary(max_size=64))
@settings(max_examples=400)
def test_arbitrary_bytes_raise_only_codec_error(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        loads(data)


@given(values, st.data())
def test_damaged_encodings_raise_only_codec_error(value: object, data: st.DataObject) -> None:
    encoded = bytearray(dumps(value))
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] ^= data.draw(st.integers(1, 255))
    with contextlib.suppress(CodecError):
        loads(bytes(encoded))


@pytest.mark.parametrize(
    ("value", "hex_"),
    [
        # RFC 8949 appendix A
        (1.5, "f93e00"),
        (100000.0, "fa47c35000"),
        (1.1, "fb3ff199999999999a"),
        (-(2**64) - 1, "c349010000000000000000"),
        ([1, [2, 3], [4, 5]], "8301820203820405"),
        ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
        # bytewise key order (RFC 8949 4.2.1): 24 (18 18) before -1 (20), unlike cbor2's
        # length-first canonical order
        ({-1: 0, 24: 0}, "a21818002000"),
        ({"aa": 0, 100: 0}, "a2186400626161" + "00"),
        (cbor2.CBORTag(18, [b"", {}, b"", b""]), "d28440a04040"),
    ],
)
def test_known_encodings(value: object, hex_: str) -> None:
    assert dumps(value).hex() == hex_


def test_cbor2_canonical_differs_so_we_do_not_use_it_for_maps() -> None:
    assert cbor2.dumps({-1: 0, 24: 0}, canonical=True).hex() == "a22000181800"


@pytest.mark.parametrize(
    ("hex_", "why"),
    [
        ("a2616101616102", "Duplicate"),
        ("9f01ff", "indefinite"),
        ("5f4101ff", "indefinite"),
        ("bf616101ff", "indefinite"),
        ("0101", "trailing"),
        ("1801", "deterministic"),
        ("a2616201616101", "deterministic"),
        ("fb3ff8000000000000", "deterministic"),
        ("c11a5f000000", "datetime"),
        ("81" * 20 + "00", "depth"),
    ],
)
def test_refused(hex_: str, why: str) -> None:
    with pytest.raises(CodecError, match=why):
        loads(bytes.fromhex(hex_))


def test_codec_errors_are_record_errors_and_truncation_is_named() -> None:
    with pytest.raises(Truncated):
        loads(bytes.fromhex("820102")[:2])
    with pytest.raises(Truncated):
        loads(b"")
    assert issubclass(CodecError, RecordError)


def test_size_and_depth_limits_are_parameters() -> None:
    with pytest.raises(CodecError, match="exceeds the limit"):
        loads(dumps(b"x" * 100), max_bytes=50)
    nested = dumps([[[[0]]]])
    assert loads(nested, max_depth=5) == [[[[0]]]]
    with pytest.raises(CodecError, match="depth"):
        loads(nested, max_depth=3)


def test_non_deterministic_input_accepted_only_when_asked() -> None:
    assert loads(bytes.fromhex("1801"), deterministic=False) == 1


@pytest.mark.parametrize("value", [{1, 2}, object(), {"a": b"x", "b": {1: {2.5j}}}])
def test_dumps_refuses_values_records_do_not_carry(value: object) -> None:
    with pytest.raises(CodecError, match="records carry no"):
        dumps(value)


class _TwiceA(Mapping[str, int]):
    """A mapping that yields the same key twice, as no dict can, to reach the guard."""

    def __getitem__(self, key: str) -> int:
        return 1

    def __iter__(self) -> Iterator[str]:
        return iter(["a", "a"])

    def __len__(self) -> int:
        return 2


def test_dumps_refuses_keys_that_collide() -> None:
    with pytest.raises(CodecError, match="two keys"):
        dumps(_TwiceA())
