"""Frames over a byte stream: round trips, resync after garbage, limits, a foreign peer."""

from __future__ import annotations

import itertools
import os
import time
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hw_sim.link import PtyLink
from provisioning import framing
from provisioning.framing import (
    MAX_FRAME,
    ForeignPeer,
    FrameDecoder,
    FramedPort,
    FrameTooLarge,
    LinkTimeout,
    encode_frame,
)

payloads = st.lists(st.binary(min_size=0, max_size=300), min_size=1, max_size=6)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@given(payloads, st.lists(st.integers(min_value=0), max_size=20))
def test_round_trip_whatever_the_chunking(items: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(item) for item in items)
    decoder = FrameDecoder()
    got = [frame for chunk in chunked(stream, cuts) for frame in decoder.feed(chunk)]
    assert got == items


@given(st.binary(max_size=200), payloads, st.lists(st.integers(min_value=0), max_size=10))
def test_garbage_before_frames_is_skipped(
    garbage: bytes, items: list[bytes], cuts: list[int]
) -> None:
    stream = garbage + b"".join(encode_frame(item) for item in items)
    decoder = FrameDecoder()
    got = [frame for chunk in chunked(stream, cuts) for frame in decoder.feed(chunk)]
    assert got[-len(items) :] == items


@given(st.binary(min_size=1, max_size=100), st.integers(min_value=0), st.integers(1, 255))
def test_a_corrupted_frame_is_dropped_and_the_next_one_read(
    payload: bytes, where: int, flip: int
) -> None:
    bad = bytearray(encode_frame(payload))
    bad[where % len(bad)] ^= flip
    decoder = FrameDecoder()
    got = decoder.feed(bytes(bad) + encode_frame(b"next"))
    assert got == [b"next"]


def test_oversize_is_refused_both_ways() -> None:
    with pytest.raises(FrameTooLarge, match="chunks"):
        encode_frame(bytes(MAX_FRAME + 1))
    fields = b"\x01" + (MAX_FRAME + 1).to_bytes(4, "big")
    header = b"JM" + fields + zlib.crc32(fields).to_bytes(4, "big")
    decoder = FrameDecoder()
    assert decoder.feed(header + encode_frame(b"ok")) == [b"ok"]
    assert decoder.rejected == 1


def test_a_peer_speaking_something_else_is_named() -> None:
    with (
        PtyLink(lambda _: link.send(b"AT OK\r\n" * 200)) as link,
        FramedPort(port=link.port) as port,
    ):
        port.send(b"hello?")
        with pytest.raises(ForeignPeer, match="not a Jemput kit/tool on this port"):
            port.receive(timeout=2.0)


def test_a_silent_peer_times_out() -> None:
    with PtyLink(lambda _: None) as link, FramedPort(port=link.port) as port:
        port.send(b"hello?")
        with pytest.raises(LinkTimeout, match="no answer"):
            port.receive(timeout=0.2)


def test_a_peer_that_stops_reading_cannot_hang_a_send(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing, "WRITE_TIMEOUT", 0.3)
    master, slave = os.openpty()  # nobody reads the master: the pty's buffer fills up
    try:
        with FramedPort(port=os.ttyname(slave)) as port:
            started = time.monotonic()
            with pytest.raises(LinkTimeout, match="not reading its provisioning port"):
                for _ in range(64):
                    port.send(bytes(MAX_FRAME))
            assert time.monotonic() - started < 5.0
    finally:
        os.close(master)
        os.close(slave)
