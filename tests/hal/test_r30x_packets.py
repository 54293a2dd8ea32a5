"""The 0xEF01 packet format: known vectors, round trips under any chunking, resync."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal import exc
from hal.r30x import (
    GEN_IMG,
    PID_ACK,
    PID_COMMAND,
    PID_DATA,
    PID_END_DATA,
    VFY_PWD,
    Packet,
    PacketReader,
    checksum,
    encode_packet,
    raise_for_code,
)

PIDS = st.sampled_from([PID_COMMAND, PID_DATA, PID_ACK, PID_END_DATA])
PAYLOADS = st.binary(min_size=0, max_size=256)


def test_verify_password_vector_from_the_manual() -> None:
    packet = encode_packet(PID_COMMAND, bytes([VFY_PWD]) + struct.pack(">I", 0))
    assert packet == bytes.fromhex("EF01 FFFFFFFF 01 0007 13 00000000 001B")


def test_gen_img_vector_from_the_manual() -> None:
    assert encode_packet(PID_COMMAND, bytes([GEN_IMG])) == bytes.fromhex(
        "EF01 FFFFFFFF 01 0003 01 0005"
    )


def test_reader_decodes_the_gen_img_vector() -> None:
    reader = PacketReader()
    assert reader.feed(bytes.fromhex("EF01 FFFFFFFF 01 0003 01 0005")) == [
        Packet(PID_COMMAND, bytes([GEN_IMG]))
    ]


@given(
    packets=st.lists(st.tuples(PIDS, PAYLOADS), min_size=1, max_size=5),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
def test_round_trip_under_any_chunking(packets: list[tuple[int, bytes]], cuts: list[int]) -> None:
    stream = b"".join(encode_packet(pid, payload) for pid, payload in packets)
    reader = PacketReader()
    decoded: list[Packet] = []
    previous = 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        decoded += reader.feed(stream[previous:cut])
        previous = cut
    assert [(p.pid, p.payload) for p in decoded] == packets


@given(garbage=st.binary(max_size=64).filter(lambda g: b"\xef" not in g), payload=PAYLOADS)
def test_garbage_before_a_packet_is_skipped(garbage: bytes, payload: bytes) -> None:
    reader = PacketReader()
    assert reader.feed(garbage + encode_packet(PID_ACK, payload)) == [Packet(PID_ACK, payload)]
    assert reader.skipped == len(garbage)


def test_bad_checksum_raises_then_the_reader_carries_on() -> None:
    good = encode_packet(PID_ACK, b"\x00")
    bad = bytearray(encode_packet(PID_ACK, b"\x00\x05"))
    bad[-1] ^= 0x01
    reader = PacketReader(source="fingerprint sensor on /dev/pts/9")
    with pytest.raises(exc.ChecksumError, match=r"/dev/pts/9.*checksum"):
        reader.feed(good + bytes(bad) + good)
    assert reader.feed(b"") == [Packet(PID_ACK, b"\x00"), Packet(PID_ACK, b"\x00")]


def test_wrong_address_is_a_frame_error() -> None:
    reader = PacketReader()
    with pytest.raises(exc.FrameError, match="address 0x12345678"):
        reader.feed(encode_packet(PID_ACK, b"\x00", address=0x12345678))


@pytest.mark.parametrize(
    ("header", "what"),
    [
        (bytes.fromhex("EF01FFFFFFFF05000300"), "packet id 0x05"),
        (bytes.fromhex("EF01FFFFFFFF070001"), "length 1"),
        (bytes.fromhex("EF01FFFFFFFF070200"), "length 512"),
    ],
)
def test_bad_headers_are_frame_errors_and_resync(header: bytes, what: str) -> None:
    reader = PacketReader()
    good = encode_packet(PID_ACK, b"\x00")
    with pytest.raises(exc.FrameError, match=what):
        reader.feed(header + good)
    assert reader.feed(b"") == [Packet(PID_ACK, b"\x00")]


def test_adafruit_final_packet_quirk_is_tolerated_only_on_request() -> None:
    payload = b"\x01\x02\x03"
    quirky = bytearray(encode_packet(PID_END_DATA, payload))
    quirky[-2:] = struct.pack(">H", checksum(PID_DATA, payload))
    with pytest.raises(exc.ChecksumError):
        PacketReader().feed(bytes(quirky))
    tolerant = PacketReader(tolerate_end_data_quirk=True)
    assert tolerant.feed(bytes(quirky)) == [Packet(PID_END_DATA, payload, quirk=True)]


def test_encode_rejects_what_cannot_be_framed() -> None:
    with pytest.raises(ValueError, match="packet id"):
        encode_packet(0x05, b"")
    with pytest.raises(ValueError, match="exceeds"):
        encode_packet(PID_DATA, bytes(257))


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (0x02, exc.NoFinger),
        (0x03, exc.PoorImage),
        (0x06, exc.PoorImage),
        (0x07, exc.PoorImage),
        (0x08, exc.NoMatch),
        (0x09, exc.NoMatch),
        (0x0B, exc.LibraryError),
        (0x0C, exc.LibraryError),
        (0x10, exc.LibraryError),
        (0x11, exc.LibraryError),
        (0x18, exc.LibraryError),
        (0x13, exc.WrongPassword),
        (0x01, exc.ProtocolError),
        (0x0D, exc.ProtocolError),
        (0x0E, exc.ProtocolError),
        (0x0F, exc.ProtocolError),
    ],
)
def test_codes_map_to_typed_errors(code: int, error: type[Exception]) -> None:
    with pytest.raises(error, match=f"0x{code:02X}.*during Search"):
        raise_for_code(code, during="Search")


def test_ok_raises_nothing_and_unknown_codes_are_named() -> None:
    raise_for_code(0x00, during="GenImg")
    with pytest.raises(exc.FingerprintError, match="0x42") as caught:
        raise_for_code(0x42, during="GenImg")
    assert type(caught.value) is exc.FingerprintError
    assert caught.value.device == "fingerprint"
