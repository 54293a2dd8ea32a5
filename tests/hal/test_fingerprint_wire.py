"""The R30x driver against the fingerprint emulator, over a real pty."""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Iterator

import pytest
import serial

from hal import exc
from hal.fingerprint import LedColour, LedMode, R30xSensor, image_quality
from hal.r30x import (
    DOWN_CHAR,
    GEN_IMG,
    IMG2TZ,
    PID_COMMAND,
    PID_DATA,
    PID_END_DATA,
    READ_INDEX_TABLE,
    SEARCH,
    SET_SYS_PARA,
    STORE,
    UP_CHAR,
    UP_IMAGE,
    VFY_PWD,
    PacketReader,
    checksum,
    encode_packet,
)
from hal.types import FingerPosition, SensorModel
from hw_sim.fingerprint_emulator import FingerprintEmulator
from hw_sim.fingerprints import MATCH_THRESHOLD, ridge_image, template_of
from hw_sim.fingers import Finger, FingerCondition

ALICE_INDEX = Finger(person_seed=11, position=2)
ALICE_THUMB = Finger(person_seed=11, position=1)
#: The quality an OK synthetic finger must reach through the driver's measure.
GOOD_QUALITY = 60


@pytest.fixture
def emulator() -> Iterator[FingerprintEmulator]:
    emu = FingerprintEmulator()
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture
def sensor(emulator: FingerprintEmulator) -> Iterator[R30xSensor]:
    driver = R30xSensor(port=emulator.port, read_timeout=0.5)
    try:
        yield driver
    finally:
        driver.close()


def instructions(emulator: FingerprintEmulator) -> list[int]:
    return [instruction for instruction, _ in emulator.received]


def test_handshake_verifies_password_then_raises_the_baud_rate(
    emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    assert emulator.received[:2] == [(VFY_PWD, bytes(4)), (SET_SYS_PARA, bytes([4, 12]))]
    assert emulator.baudrate == 115200
    assert sensor.baudrate == 115200
    # and the largest data packets (256 bytes): the fewest headers an image crosses with
    assert (SET_SYS_PARA, bytes([6, 3])) in emulator.received
    assert emulator.packet_size_code == 3


def test_handshake_can_stay_at_the_default_rate(emulator: FingerprintEmulator) -> None:
    with R30xSensor(port=emulator.port, fast_baudrate=None) as sensor:
        assert sensor.baudrate == 57600
    assert (SET_SYS_PARA, bytes([4, 6])) not in emulator.received
    assert [p for i, p in emulator.received if i == SET_SYS_PARA] == [bytes([6, 3])]
    assert emulator.baudrate == 57600


def test_probe_reports_the_sensor_parameters() -> None:
    with (
        FingerprintEmulator(library_size=150) as emulator,
        R30xSensor(port=emulator.port, name="fp0") as sensor,
    ):
        info = sensor.probe()
    assert info.name == "fp0"
    assert info.detail["library_size"] == "150"
    assert info.detail["security_level"] == "3"
    assert info.detail["packet_size"] == "256"  # the handshake asked for the largest
    assert info.detail["baudrate"] == "115200"


@pytest.mark.parametrize("model", list(SensorModel), ids=lambda m: m.name)
def test_capture_uploads_image_and_template_at_the_models_size(model: SensorModel) -> None:
    with (
        FingerprintEmulator(model=model) as emulator,
        R30xSensor(port=emulator.port, model=model, read_timeout=0.5) as sensor,
    ):
        assert sensor.probe().detail["library_size"] == str(model.library_pages)
        emulator.place(ALICE_INDEX)
        sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
        assert instructions(emulator)[-1] == GEN_IMG, "imaged, nothing uploaded yet"
        image = sensor.upload_image(FingerPosition.RIGHT_INDEX)
    width, height = model.image_size
    assert (image.width, image.height, image.position) == (width, height, ALICE_INDEX.position)
    # 4-bit pixels, high nibble first, widened by x17
    sent = ridge_image(ALICE_INDEX.person_seed, ALICE_INDEX.position, 0, size=model.image_size)
    assert image.pixels == bytes((p >> 4) * 17 for p in sent)
    assert image.template == template_of(
        ALICE_INDEX.person_seed, ALICE_INDEX.position, 0, size=model.image_size
    )
    assert image.quality >= GOOD_QUALITY
    assert image.quality == image_quality(image.pixels, width, height)
    assert instructions(emulator)[-4:] == [GEN_IMG, UP_IMAGE, IMG2TZ, UP_CHAR]


def test_a_sensor_of_another_model_is_refused_naming_both() -> None:
    with FingerprintEmulator(model=SensorModel.R503) as emulator:
        with pytest.raises(exc.WrongSensorModel) as caught:
            R30xSensor(port=emulator.port, model=SensorModel.R307, read_timeout=0.5)
        # the refused driver let go of the port: the right one opens it
        with R30xSensor(port=emulator.port, model=SensorModel.R503, read_timeout=0.5) as sensor:
            assert sensor.probe().model == "R503"
    message = str(caught.value)
    assert "configured for an R307 (1,000 templates, 256x288 images)" in message
    assert "library of 200 templates, an R503's (192x192 images)" in message
    assert '[parts] fingerprint = "r503"' in message


def test_image_of_the_wrong_size_is_a_frame_error() -> None:
    """A library no model has (a clone's firmware) passes the handshake; its image cannot."""
    with (
        FingerprintEmulator(model=SensorModel.R503, library_size=150) as emulator,
        R30xSensor(port=emulator.port) as sensor,
    ):
        emulator.place(ALICE_INDEX)
        sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
        with pytest.raises(exc.FrameError, match=r"expected 256x288 for an R307; is the kit's"):
            sensor.upload_image(FingerPosition.RIGHT_INDEX)


def test_enrolled_finger_is_identified_on_a_later_capture(
    emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    emulator.place(ALICE_INDEX)
    sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
    first = sensor.upload_image(FingerPosition.RIGHT_INDEX)
    sensor.enrol(7, first.template)
    assert emulator.library == {7: first.template}
    # the buffer still holds the template it uploaded: stored without sending it back
    assert instructions(emulator)[-2:] == [UP_CHAR, STORE]
    sensor.enrol(8, template_of(3, 1))
    assert instructions(emulator)[-2:] == [DOWN_CHAR, STORE]
    emulator.place(Finger(ALICE_INDEX.person_seed, ALICE_INDEX.position, capture=5))
    match = sensor.identify(timeout=1.0)
    assert match.page == 7
    assert match.score >= MATCH_THRESHOLD
    emulator.place(ALICE_THUMB)
    with pytest.raises(exc.NoMatch, match="not in the library"):
        sensor.identify(timeout=1.0)


def test_an_image_uploads_after_the_finger_left_and_is_searched_in_place(
    emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    """The person moves on while the image crosses the wire; the duplicate search that
    follows uses the template the sensor holds, over the kit's own pages only."""
    emulator.place(ALICE_INDEX)
    sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
    sensor.enrol(7, sensor.upload_image(FingerPosition.RIGHT_INDEX).template)
    emulator.place(Finger(ALICE_INDEX.person_seed, ALICE_INDEX.position, capture=2))
    sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
    emulator.place(None)  # lifted: the next finger goes down
    image = sensor.upload_image(FingerPosition.RIGHT_INDEX)
    emulator.received.clear()
    with pytest.raises(exc.NoMatch):
        sensor.search(image.template, pages=7)  # pages 0 to 6
    assert sensor.search(image.template, pages=8).page == 7
    assert instructions(emulator) == [SEARCH, SEARCH], "the template was not sent back"
    assert [struct.unpack(">BHH", params)[1:] for _, params in emulator.received] == [
        (0, 7),
        (0, 8),
    ]
    with pytest.raises(ValueError, match="at least one page"):
        sensor.search(image.template, pages=0)


def test_repeated_captures_of_one_finger_match_each_other(
    emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    emulator.place(ALICE_INDEX)
    templates = []
    for _ in range(3):
        sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
        templates.append(sensor.upload_image(FingerPosition.RIGHT_INDEX).template)
    assert len(set(templates)) == 3  # fresh noise every capture
    sensor.enrol(0, templates[0])
    emulator.place(ALICE_INDEX)
    assert sensor.identify(timeout=1.0).page == 0


def test_no_finger_until_the_deadline(emulator: FingerprintEmulator, sensor: R30xSensor) -> None:
    emulator.place(None)
    with pytest.raises(exc.NoFinger, match=r"no finger within 0\.2 s"):
        sensor.take_image(FingerPosition.LEFT_THUMB, timeout=0.2)
    assert instructions(emulator).count(GEN_IMG) >= 2  # it polled, it did not give up at once


def test_the_kit_stopping_ends_a_wait_for_a_finger(emulator: FingerprintEmulator) -> None:
    """The lock screen's wait (ten seconds on a kit) ends once the kit stops, with the
    NoFinger of nobody coming, rather than being sat out: a later wait is whole again."""
    stopping = threading.Event()
    with R30xSensor(port=emulator.port, read_timeout=0.5, stopping=stopping) as sensor:
        emulator.place(None)
        polled = emulator.received.copy

        def stop_once_it_polls() -> None:
            while [i for i, _ in polled()].count(GEN_IMG) < 2:
                time.sleep(0.01)
            stopping.set()

        stopper = threading.Thread(target=stop_once_it_polls, daemon=True)
        stopper.start()
        with pytest.raises(exc.NoFinger, match="the kit is stopping; the wait for a finger"):
            sensor.identify(timeout=60.0)
        stopper.join(timeout=10)
        stopping.clear()
        with pytest.raises(exc.NoFinger, match=r"no finger within 0\.2 s"):
            sensor.identify(timeout=0.2)


def test_missing_finger_is_never_seen(emulator: FingerprintEmulator, sensor: R30xSensor) -> None:
    emulator.place(Finger(3, 4, FingerCondition.MISSING))
    with pytest.raises(exc.NoFinger):
        sensor.take_image(FingerPosition.RIGHT_RING, timeout=0.1)


def test_bandaged_finger_images_but_has_no_features(
    emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    emulator.place(Finger(3, 4, FingerCondition.BANDAGED))
    sensor.take_image(FingerPosition.RIGHT_RING, timeout=0.5)  # the glass sees something
    with pytest.raises(exc.PoorImage, match="too few features"):
        sensor.upload_image(FingerPosition.RIGHT_RING)


def test_scarred_finger_fails_mostly_and_scores_low_otherwise(
    emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    emulator.place(Finger(3, 4, FingerCondition.SCARRED))
    outcomes: list[int | None] = []
    for _ in range(10):
        sensor.take_image(FingerPosition.RIGHT_RING, timeout=0.5)
        try:
            outcomes.append(sensor.upload_image(FingerPosition.RIGHT_RING).quality)
        except exc.PoorImage:
            outcomes.append(None)
    assert outcomes.count(None) >= 5
    assert all(quality < GOOD_QUALITY for quality in outcomes if quality is not None)


def test_poor_image_fault(emulator: FingerprintEmulator, sensor: R30xSensor) -> None:
    emulator.place(ALICE_INDEX)
    emulator.inject("poor-image")
    sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=0.5)
    with pytest.raises(exc.PoorImage):
        sensor.upload_image(FingerPosition.RIGHT_INDEX)
    emulator.clear_faults()
    sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=0.5)
    assert sensor.upload_image(FingerPosition.RIGHT_INDEX).quality >= GOOD_QUALITY


def test_wrong_password_is_refused() -> None:
    with FingerprintEmulator(password=0x1234) as emulator:
        with pytest.raises(exc.WrongPassword, match="password"):
            R30xSensor(port=emulator.port)
        with R30xSensor(port=emulator.port, password=0x1234) as sensor:
            assert sensor.library_count() == 0
        emulator.inject("wrong-password")
        with pytest.raises(exc.WrongPassword):
            R30xSensor(port=emulator.port, password=0x1234)
    assert emulator.received[0] == (VFY_PWD, struct.pack(">I", 0))


def test_corrupt_answer_is_a_checksum_error_and_the_next_works(
    emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    emulator.inject("corrupt")
    with pytest.raises(exc.ChecksumError, match=emulator.port):
        sensor.library_count()
    assert sensor.library_count() == 0


def test_unplugged_sensor_is_absent(emulator: FingerprintEmulator, sensor: R30xSensor) -> None:
    emulator.inject("unplugged")
    with pytest.raises(exc.DeviceAbsent, match=r"no answer to TemplateNum.*check the cable"):
        sensor.library_count()
    emulator.clear_faults()
    assert sensor.library_count() == 0


def test_unplugged_at_start_fails_the_constructor(emulator: FingerprintEmulator) -> None:
    emulator.inject("unplugged")
    with pytest.raises(exc.DeviceAbsent, match="VfyPwd"):
        R30xSensor(port=emulator.port, read_timeout=0.2)


def test_missing_port_is_absent(tmp_path) -> None:
    with pytest.raises(exc.DeviceAbsent, match="cannot open"):
        R30xSensor(port=str(tmp_path / "ttyNOPE"))


def test_library_count_and_clear(emulator: FingerprintEmulator, sensor: R30xSensor) -> None:
    for page in (0, 1, 5):
        sensor.enrol(page, template_of(20 + page, 1))
    assert sensor.library_count() == 3
    sensor.clear_library()
    assert sensor.library_count() == 0
    assert emulator.library == {}


def test_held_pages_read_every_index_page_of_an_r307_library() -> None:
    """1,000 pages take four ReadIndexTable answers; the driver asks only that many."""
    with FingerprintEmulator(model=SensorModel.R307) as emulator:
        emulator.load_flash({page: template_of(30, 1) for page in (0, 7, 255, 256, 613, 999)})
        with R30xSensor(port=emulator.port, read_timeout=0.5) as sensor:
            assert sensor.held_pages() == {0, 7, 255, 256, 613, 999}
        tables = [params for op, params in emulator.received if op == READ_INDEX_TABLE]
    assert tables == [bytes([0]), bytes([1]), bytes([2]), bytes([3])]


def test_held_pages_follow_store_and_delete(sensor: R30xSensor) -> None:
    assert sensor.held_pages() == frozenset()
    for page in (3, 199):
        sensor.enrol(page, template_of(40 + page, 2))
    sensor.delete(3)
    assert sensor.held_pages() == {199}


def test_page_beyond_the_library_is_a_library_error(sensor: R30xSensor) -> None:
    with pytest.raises(exc.LibraryError, match="out of range"):
        sensor.enrol(SensorModel.R307.library_pages, template_of(1, 1))


def test_led_ring(emulator: FingerprintEmulator, sensor: R30xSensor) -> None:
    sensor.led(LedColour.BLUE, LedMode.BREATHE, count=3)
    assert emulator.led == (1, 0x80, 2, 3)


def test_close_twice_and_use_after_close(sensor: R30xSensor) -> None:
    sensor.close()
    sensor.close()
    assert "closed" in repr(sensor)
    with pytest.raises(exc.DeviceAbsent, match="closed"):
        sensor.library_count()


def test_emulator_rejects_unknown_faults(emulator: FingerprintEmulator) -> None:
    with pytest.raises(ValueError, match="unplugged"):
        emulator.inject("on-fire")


def test_emulator_accepts_adafruits_final_packet_checksum(emulator: FingerprintEmulator) -> None:
    """Adafruit's driver checksums its last data packet as if its id were 0x02."""
    template = template_of(5, 5)
    with serial.Serial(emulator.port, 57600, timeout=1.0) as port:
        reader = PacketReader()

        def ack() -> bytes:
            for _ in range(100):  # bounded: each read waits at most the port's 1 s
                packets = reader.feed(port.read(port.in_waiting or 1))
                if packets:
                    return packets[0].payload
            raise AssertionError("the emulator did not acknowledge")

        port.write(encode_packet(PID_COMMAND, bytes([DOWN_CHAR, 1])))
        assert ack() == b"\x00"
        first, last = template[:256], template[256:]
        quirky = bytearray(encode_packet(PID_END_DATA, last))
        quirky[-2:] = struct.pack(">H", checksum(PID_DATA, last))
        port.write(encode_packet(PID_DATA, first) + bytes(quirky))
        port.write(encode_packet(PID_COMMAND, bytes([STORE, 1, 0, 9])))
        assert ack() == b"\x00"
    assert emulator.quirks == 1
    assert emulator.library == {9: template}
