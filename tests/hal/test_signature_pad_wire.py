"""The Topaz-style pad driver against its pty emulator, and its frame decoder alone."""

from __future__ import annotations

import io
import os
import tempfile
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from hal.exc import DeviceAbsent, DeviceTimeout, NoSignature
from hal.signature_pad import FrameDecoder, PenSample, TopazPad, render_signature
from hal.types import PenPoint
from hw_sim.signature_pad_emulator import SignaturePadEmulator, encode_frame

SETTLE = 0.2
#: Head start the driver gets before the pen comes down (it discards older input).
LEAD = 0.1

samples = st.builds(
    PenSample,
    x=st.integers(0, 0xFFF),
    y=st.integers(0, 0xFFF),
    in_range=st.booleans(),
    touching=st.booleans(),
)
#: Line noise shorter than a frame, so it can never pass for one.
noise = st.binary(min_size=0, max_size=4)


def frame(sample: PenSample) -> bytes:
    return encode_frame(sample.x, sample.y, in_range=sample.in_range, touching=sample.touching)


@given(st.lists(samples, max_size=40), st.integers(1, 7))
def test_decoder_round_trips_any_split(points: list[PenSample], chunk: int) -> None:
    stream = b"".join(frame(p) for p in points)
    decoder = FrameDecoder()
    decoded = []
    for start in range(0, len(stream), chunk):
        decoded += decoder.feed(stream[start : start + chunk])
    assert decoded == points
    assert decoder.invalid_frames == 0


@given(st.lists(st.tuples(noise, samples), max_size=40))
def test_decoder_drops_noise_and_resyncs(pairs: list[tuple[bytes, PenSample]]) -> None:
    stream = b"".join(junk + frame(p) for junk, p in pairs)
    assert FrameDecoder().feed(stream) == [p for _, p in pairs]


def test_decoder_counts_frames_with_reserved_bits_set() -> None:
    good = encode_frame(100, 200, in_range=True, touching=True)
    bad = bytes((0xC1, 0x01, 0x20, 0x01, 0x00))  # bit 5 of byte 2 must be clear
    decoder = FrameDecoder()
    assert decoder.feed(bad + good) == [PenSample(100, 200, True, True)]
    assert decoder.invalid_frames == 1


def test_decoder_counts_a_frame_cut_short_and_stray_bytes() -> None:
    decoder = FrameDecoder()
    good = encode_frame(5, 6, in_range=True, touching=False)
    assert decoder.feed(b"\x01\x02" + good[:3] + good) == [PenSample(5, 6, True, False)]
    assert (decoder.invalid_frames, decoder.stray_bytes) == (1, 2)


def test_render_keeps_aspect_and_draws_black_on_white() -> None:
    png = render_signature([(PenPoint(0, 384), PenPoint(2047, 384))], 2048, 768, (600, 225))
    image = Image.open(io.BytesIO(png))
    assert image.size == (600, 225)
    assert image.getpixel((300, 112)) < 64  # the line crosses the middle
    assert image.getpixel((300, 20)) == 255
    assert (
        sum(1 for count in image.histogram() if count) > 2
    )  # antialiased edges, not just black and white


THREE_STROKES = [
    [(100 + 10 * i, 300 + i) for i in range(30)],
    [(700, 200 + 12 * i) for i in range(25)],
    [(1200 + 20 * i, 500 - 5 * i) for i in range(40)],
]


@pytest.fixture
def emulator():
    with SignaturePadEmulator(speed=50.0) as emu:
        yield emu


@pytest.fixture
def pad(emulator):
    with TopazPad(port=emulator.port) as driver:
        yield driver


def as_points(strokes: list[list[tuple[int, int]]]) -> tuple[tuple[PenPoint, ...], ...]:
    return tuple(tuple(PenPoint(x, y) for x, y in stroke) for stroke in strokes)


def test_three_strokes_come_back_point_for_point(emulator, pad) -> None:
    emulator.sign(THREE_STROKES, delay=LEAD)
    signature = pad.capture(timeout=10.0, settle=SETTLE)
    assert signature.strokes == as_points(THREE_STROKES)
    assert (signature.width, signature.height) == (2048, 768)
    assert Image.open(io.BytesIO(signature.png)).size == (600, 225)
    assert pad.decoder.invalid_frames == 0


def test_no_stroke_raises_no_signature(pad) -> None:
    with pytest.raises(NoSignature, match="sent nothing at all"):
        pad.capture(timeout=0.3, settle=SETTLE)


def test_the_kit_stopping_ends_a_wait_for_the_pen(emulator) -> None:
    """Nobody signs; the kit stops: the wait ends with NoSignature saying so, not at its
    timeout."""
    stopping = threading.Event()
    with TopazPad(port=emulator.port, stopping=stopping) as pad:
        threading.Timer(0.2, stopping.set).start()
        with pytest.raises(NoSignature, match="the kit is stopping"):
            pad.capture(timeout=60.0, settle=SETTLE)


def test_garbage_on_the_line_still_yields_the_strokes(emulator, pad) -> None:
    emulator.inject("garbage")
    emulator.sign(THREE_STROKES, delay=LEAD)
    signature = pad.capture(timeout=10.0, settle=SETTLE)
    assert signature.strokes == as_points(THREE_STROKES)
    assert pad.decoder.invalid_frames + pad.decoder.stray_bytes > 0


def test_unplugged_pad_gives_no_signature(emulator, pad) -> None:
    emulator.inject("unplugged")
    emulator.sign(THREE_STROKES, delay=LEAD)
    with pytest.raises(NoSignature, match="check the pad's cable"):
        pad.capture(timeout=0.3, settle=SETTLE)
    assert emulator.sent_frames == 0


def test_unplugged_mid_stroke_is_a_timeout(emulator, pad) -> None:
    long_stroke = [(10 + i % 2000, 10) for i in range(10_000)]  # 2 s of pen down at speed 50
    emulator.sign([long_stroke], delay=LEAD)
    pull = threading.Timer(2 * LEAD, emulator.inject, ("unplugged",))
    pull.start()
    try:
        with pytest.raises(DeviceTimeout, match="still on the signature pad"):
            pad.capture(timeout=1.0, settle=SETTLE)
    finally:
        pull.cancel()
        pull.join()
    assert 0 < emulator.sent_frames < len(long_stroke)


def test_probe_reports_whether_the_pad_streams(emulator, pad) -> None:
    assert pad.probe().detail["streaming"] == "no"
    emulator.sign([[(x, 100) for x in range(0, 2000, 2)]])
    info = pad.probe()
    assert info.detail == {"port": emulator.port, "streaming": "yes", "area": "2048x768"}


def test_missing_port_is_device_absent() -> None:
    with tempfile.TemporaryDirectory() as folder:
        missing = os.path.join(folder, "ttyUSB9")
        with pytest.raises(DeviceAbsent, match="ttyUSB9"):
            TopazPad(port=missing)


def test_close_twice_and_emulator_rejects_unknown_fault(emulator, pad) -> None:
    pad.close()
    pad.close()
    with pytest.raises(DeviceAbsent):
        pad.capture(timeout=0.1)
    with pytest.raises(ValueError, match="unplugged, garbage"):
        emulator.inject("smoke")
