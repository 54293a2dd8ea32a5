"""The UART link at the wire: frames, garbage counted on both sides, NAKs, dead lines.

The driver frames with ``binascii.crc_hqx``; the firmware computes its CRC bit by bit in
MicroPython: a frame either side accepts proves the two agree.  Noise is ignored and
counted by whichever side it reached, and never stops the link or crashes the firmware.
"""

from __future__ import annotations

import random
import subprocess

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st

from hal import coprocessor
from hal.coprocessor import FrameReader, PowerCoprocessor, PowerState, encode
from hal.exc import CoprocessorRefused, DeviceAbsent, DeviceTimeout
from hw_sim.pico import FIRMWARE_DIR, PicoSim, micropython_command
from tests.pico.conftest import beat_for


def _firmware_crcs(blobs: list[bytes]) -> list[int]:
    """The firmware's own crc16() of each blob, computed by the real MicroPython."""
    script = "import frames\n" + "".join(
        f"print(frames.crc16(bytes.fromhex('{blob.hex()}')))\n" for blob in blobs
    )
    done = subprocess.run(
        [*micropython_command(), "-c", script],
        cwd=FIRMWARE_DIR,
        env={"MICROPYPATH": str(FIRMWARE_DIR)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [int(line) for line in done.stdout.split()]


def test_the_documented_vectors() -> None:
    """docs/devices/coprocessor.md, table "Vectors"."""
    assert encode(coprocessor.HEARTBEAT, 1, b"\x00").hex(" ") == "a5 01 01 01 00 f6 75"
    assert encode(coprocessor.HALTED, 2).hex(" ") == "a5 04 02 00 76 3e"
    assert encode(coprocessor.INFO, 3).hex(" ") == "a5 03 03 00 c0 9f"


def test_firmware_and_driver_compute_the_same_crc() -> None:
    rng = random.Random(13)
    blobs = [b"", b"123456789"] + [rng.randbytes(rng.randrange(1, 40)) for _ in range(50)]
    firmware = _firmware_crcs(blobs)
    assert firmware[1] == 0x29B1  # the published check value of CRC-16/CCITT-FALSE
    assert firmware == [coprocessor.crc16(blob) for blob in blobs]


@settings(max_examples=200, deadline=None)
@given(
    frames=st.lists(
        st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=32)),
        max_size=4,
    ),
    noise=st.lists(st.binary(max_size=20), min_size=5, max_size=5),
)
def test_the_driver_reader_finds_every_frame_in_noise(
    frames: list[tuple[int, int, bytes]], noise: list[bytes]
) -> None:
    clean = [chunk.replace(b"\xa5", b"") for chunk in noise]  # noise that frames nothing
    stream = clean[0] + b"".join(
        encode(*frame) + clean[1 + i % 4] for i, frame in enumerate(frames)
    )
    reader = FrameReader()
    assert reader.feed(stream) == frames
    assert reader.garbage == len(stream) - sum(len(encode(*frame)) for frame in frames)


def test_noise_to_the_pico_is_dropped_counted_and_harmless(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    before = driver.heartbeat(sealing=False)
    pico.garbage_to_pico(b"hello, pico: this is not a frame\x00\xff")
    pico.advance(0.1)
    status = driver.heartbeat(sealing=False)
    assert status.garbage - before.garbage == 34
    assert status.bad_frames == before.bad_frames
    assert status.state is PowerState.RUNNING


def test_a_frame_with_a_bad_crc_is_rejected_by_the_pico(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    frame = bytearray(encode(coprocessor.HALTED, 7))
    frame[-1] ^= 0x01
    pico.garbage_to_pico(bytes(frame))
    pico.advance(0.1)
    status = driver.heartbeat(sealing=False)
    assert status.state is PowerState.RUNNING  # the forged HALTED did nothing
    assert status.bad_frames == 1
    assert status.garbage == len(frame)


def test_noise_and_a_torn_answer_reach_the_driver_and_are_counted(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    assert driver.garbage == 0
    pico.noise_before_answers(b"\x00\x11junk", answers=2)
    driver.heartbeat(sealing=False)
    driver.status()
    assert driver.garbage == 12
    pico.corrupt_answers(1)  # the first answer arrives torn; the driver asks again
    status = driver.heartbeat(sealing=False)
    assert status.state is PowerState.RUNNING
    assert driver.garbage > 12 + 6  # the torn frame's bytes, dropped as it resynced


def test_random_noise_both_ways_never_stops_the_link(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    rng = random.Random(2026)
    sent = 0
    for _ in range(30):
        chunk = rng.randbytes(rng.randrange(1, 48))
        pico.garbage_to_pico(chunk)
        sent += len(chunk)
        pico.noise_before_answers(rng.randbytes(rng.randrange(0, 8)))
        pico.advance(0.1)  # the Pico drops a torn frame once the line is quiet
        beat_for(driver, pico, 1)
    status = driver.heartbeat(sealing=False)
    assert pico.crashed is None
    assert status.state is PowerState.RUNNING
    assert pico.cuts() == []
    assert status.garbage >= sent  # all of it counted (a request it swallowed too)


def test_frames_of_another_kind_with_our_seq_are_not_taken_as_the_answer(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    """A second writer on the UART gets answers with seqs of its own, which may be ours:
    only the answer kind of our request (or a NAK naming it) is our answer."""
    seq = driver._seq + 1  # the seq the next request carries (the driver counts them)
    others = [
        encode(coprocessor.INFO | coprocessor.REPLY, seq, bytes(18)),  # an INFO-sized answer
        encode(coprocessor.STATUS | coprocessor.REPLY, seq, bytes(16)),  # STATUS, not HEARTBEAT
        encode(coprocessor.NAK, seq, bytes((1, 0x42))),  # a NAK for another command
    ]
    pico.noise_before_answers(b"".join(others))
    status = driver.heartbeat(sealing=False)
    assert status.state is PowerState.RUNNING and status.volts > 3, "the Pico's own answer"
    assert driver.strays == len(others)
    assert driver.garbage == sum(len(frame) for frame in others)


def test_an_unknown_command_is_refused_with_a_nak(pico: PicoSim) -> None:
    with serial.Serial(pico.port, timeout=0.05) as port:
        reader = FrameReader()
        port.write(encode(0x42, 9, b"?"))
        answers: list[tuple[int, int, bytes]] = []
        for _ in range(200):
            pico.advance(0.01)
            answers += reader.feed(port.read(64))
            if answers:
                break
    assert answers == [(coprocessor.NAK, 9, bytes((1, 0x42)))]


def test_a_nak_becomes_a_typed_error(pico: PicoSim, driver: PowerCoprocessor) -> None:
    with pytest.raises(CoprocessorRefused, match="wrong payload length"):
        # what a newer driver's longer heartbeat would be to this firmware (no public
        # method sends a wrong length, so the request goes through the one private door)
        driver._request(coprocessor.HEARTBEAT, b"\x00\x00")


def test_an_unplugged_pico_times_out_naming_the_wires(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    pico.inject("unplugged")
    with pytest.raises(DeviceTimeout, match="GPIO4/5"):
        driver.heartbeat(sealing=False)
    pico.clear_faults()
    assert driver.heartbeat(sealing=False).state is PowerState.RUNNING


def test_a_missing_port_is_absent() -> None:
    with pytest.raises(DeviceAbsent, match="power co-processor"):
        PowerCoprocessor(port="/dev/nonexistent-pico")
