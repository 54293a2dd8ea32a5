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
from kitlink import framing
from kitlink.framing import (
    HEADER_BYTES,
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


@given(st.binary(max_size=40), st.binary(max_size=3000), st.data())
def test_a_reader_is_told_what_the_frame_under_way_still_lacks(
    garbage: bytes, payload: bytes, data: st.DataObject
) -> None:
    """`wanted` never reaches past the frame's end (a reader waiting for it cannot sit out a
    read slice), and is at least one byte, so a reader always waits for something."""
    stream = garbage + encode_frame(payload)
    end = len(garbage) + len(encode_frame(payload))
    decoder = FrameDecoder()
    got: list[bytes] = []
    at = 0
    while at < end:
        wanted = decoder.wanted
        assert 1 <= wanted <= end - at
        step = data.draw(st.integers(1, wanted))
        got += decoder.feed(stream[at : at + step])
        at += step
    assert got[-1:] == [payload]
    assert decoder.wanted == HEADER_BYTES


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


# -- a frame that has started must finish ------------------------------------------------------


class Clock:
    """Seconds as the decoder reads them; the test moves them on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def header_claiming(length: int) -> bytes:
    """A frame header that checks out, promising ``length`` payload bytes that never come."""
    fields = b"\x01" + length.to_bytes(4, "big")
    return b"JM" + fields + zlib.crc32(fields).to_bytes(4, "big")


IDLE = framing.FRAME_IDLE


def test_one_good_header_of_garbage_costs_seconds_not_256_kib() -> None:
    clock = Clock()
    decoder = FrameDecoder(clock=clock)
    assert decoder.feed(header_claiming(MAX_FRAME)) == []
    clock.now += IDLE + 0.1
    assert decoder.feed(encode_frame(b"hello")) == [b"hello"], "read at once after the silence"
    assert decoder.abandoned == 1


def test_a_frame_cut_mid_way_is_given_up_after_the_line_falls_silent() -> None:
    clock = Clock()
    decoder = FrameDecoder(clock=clock)
    whole = encode_frame(bytes(range(256)) * 40)
    assert decoder.feed(whole[: len(whole) // 2]) == []  # the cable is pulled here
    clock.now += 0.5
    assert decoder.feed(encode_frame(b"hello")) == [], "too soon: it could be the rest"
    assert decoder.feed(b"") == []
    clock.now += IDLE + 0.1
    assert decoder.feed(b"") == [b"hello"], "an empty read lets time pass"
    assert decoder.pending == 0


def test_a_frame_trickling_in_is_given_up_at_its_deadline() -> None:
    clock = Clock()
    decoder = FrameDecoder(clock=clock)
    length = 100_000
    decoder.feed(header_claiming(length))
    while clock.now <= 1000.0 + decoder.deadline(length):
        clock.now += IDLE / 2
        assert decoder.feed(b"\x00") == [], "one byte per second keeps no frame alive for ever"
    assert decoder.abandoned == 1
    assert decoder.feed(encode_frame(b"next")) == [b"next"]


def test_a_slow_but_steady_frame_is_read() -> None:
    clock = Clock()
    decoder = FrameDecoder(clock=clock)
    frame = encode_frame(bytes(20_000))
    got = []
    for first in range(0, len(frame), 4096):
        clock.now += 0.5  # 8 KiB/s, over the minimum rate, no long silence
        got += decoder.feed(frame[first : first + 4096])
    assert got == [bytes(20_000)] and decoder.abandoned == 0


def noise() -> st.SearchStrategy[bytes]:
    """What a line may carry: random bytes, headers that check out, frames cut short."""
    return st.one_of(
        st.binary(max_size=300),
        st.integers(0, MAX_FRAME).map(header_claiming),
        st.binary(max_size=200).flatmap(
            lambda p: st.integers(0, len(p) + 14).map(lambda cut: encode_frame(p)[:cut])
        ),
        st.just(b"JM"),
    )


@given(st.lists(noise(), max_size=12), st.binary(max_size=500))
def test_after_any_bytes_and_a_silence_the_next_good_frame_is_read(
    garbage: list[bytes], payload: bytes
) -> None:
    clock = Clock()
    decoder = FrameDecoder(clock=clock)
    for chunk in garbage:
        decoder.feed(chunk)
        clock.now += 0.01
    clock.now += IDLE + 0.01
    assert decoder.feed(encode_frame(payload))[-1:] == [payload]


@given(st.lists(noise(), max_size=12), st.binary(max_size=500))
def test_after_any_bytes_a_good_frame_is_read_once_the_line_is_quiet(
    garbage: list[bytes], payload: bytes
) -> None:
    clock = Clock()
    decoder = FrameDecoder(clock=clock)
    got = [frame for chunk in [*garbage, encode_frame(payload)] for frame in decoder.feed(chunk)]
    clock.now += IDLE + 0.01
    got += decoder.feed(b"")
    assert got[-1:] == [payload]
    assert decoder.pending == 0, "nothing left waiting"


def test_the_tool_resyncs_with_a_peer_after_a_garbage_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over a real pty: the peer answers a header of garbage first, then the frame."""
    monkeypatch.setattr(framing, "FRAME_IDLE", 0.2)

    def answer(_: bytes) -> None:
        link.send(header_claiming(MAX_FRAME))
        time.sleep(0.3)
        link.send(encode_frame(b"answer"))

    with PtyLink(answer) as link, FramedPort(port=link.port) as port:
        port.send(b"question")
        assert port.receive(timeout=5.0) == b"answer"
