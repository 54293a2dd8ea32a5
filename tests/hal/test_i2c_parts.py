"""The I2C drivers against their register models, through the SMBus-compatible bus.

The bus hands each transfer to a model as the bytes that would cross the wire, so these
tests catch byte-order, BCD, chunking and command-stream mistakes the same way the real
chips would.
"""

from __future__ import annotations

import errno
import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from hal import font
from hal.ds3231 import DS3231
from hal.exc import ClockNotTrustworthy, DeviceAbsent, ProtocolError
from hal.i2c import i2c_call, open_bus
from hal.max17048 import MAX17048
from hal.ssd1306 import SSD1306
from hal.types import ClockReading
from hw_sim.ds3231_emulator import DS3231Model
from hw_sim.max17048_emulator import MAX17048Model
from hw_sim.register_bus import RegisterBus, RegisterModel
from hw_sim.ssd1306_emulator import SSD1306Model

START = datetime(2024, 8, 17, 10, 45, 30, tzinfo=UTC)


class SteppedClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RawMemory(RegisterModel):
    """A chip that is only bytes: what a test puts in ``memory`` is what the wire carries."""

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.memory = bytearray(256)

    def _read(self, register: int, count: int) -> bytes:
        return bytes(self.memory[register : register + count])

    def _write(self, register: int, data: bytes) -> None:
        self.memory[register : register + len(data)] = data


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def panel() -> SSD1306Model:
    return SSD1306Model()


@pytest.fixture
def gauge(clock: SteppedClock) -> MAX17048Model:
    return MAX17048Model(percent=80.0, drain_per_hour=10.0, clock=clock)


@pytest.fixture
def rtc(clock: SteppedClock) -> DS3231Model:
    return DS3231Model(START, clock=clock)


@pytest.fixture
def bus(panel: SSD1306Model, gauge: MAX17048Model, rtc: DS3231Model) -> RegisterBus:
    with RegisterBus([panel, gauge, rtc]) as shared:
        yield shared


@pytest.fixture
def display(bus: RegisterBus) -> SSD1306:
    with SSD1306(bus=bus) as driver:
        yield driver


@pytest.fixture
def battery(bus: RegisterBus) -> MAX17048:
    with MAX17048(bus=bus) as driver:
        yield driver


@pytest.fixture
def rtc_driver(bus: RegisterBus) -> DS3231:
    with DS3231(bus=bus) as driver:
        yield driver


def _data_writes(panel: SSD1306Model) -> list[bytes]:
    return [data for control, data in panel.writes if control == 0x40]


# --- bus and helpers -----------------------------------------------------------------


def test_bus_fails_like_smbus_for_an_empty_address_and_oversized_blocks() -> None:
    bus = RegisterBus([SSD1306Model()])
    with pytest.raises(OSError) as absent:
        bus.read_byte_data(0x50, 0)
    assert absent.value.errno == errno.EREMOTEIO
    with pytest.raises(ValueError):
        bus.write_i2c_block_data(0x3C, 0x40, [0] * 33)
    with pytest.raises(ValueError):
        bus.read_i2c_block_data(0x3C, 0x00, 33)
    with pytest.raises(ValueError, match="0x3C"):
        bus.attach(SSD1306Model())


@pytest.mark.parametrize("model_class", [SSD1306Model, MAX17048Model])
def test_every_model_refuses_an_unknown_fault_naming_the_valid_ones(model_class) -> None:
    model = model_class()
    assert "unplugged" in model.FAULTS
    with pytest.raises(ValueError, match="valid kinds: unplugged"):
        model.inject("on-fire")


def test_clock_model_knows_osc_stopped_and_refuses_unknown_faults(rtc: DS3231Model) -> None:
    assert rtc.FAULTS == ("unplugged", "osc-stopped")
    with pytest.raises(ValueError, match="osc-stopped"):
        rtc.inject("flood")


def test_open_bus_passes_a_bus_object_through_and_names_a_missing_bus_number() -> None:
    bus = RegisterBus()
    assert open_bus(bus) is bus
    with pytest.raises(DeviceAbsent, match="i2c-99"):
        open_bus(99)


def test_i2c_call_turns_a_bus_error_into_device_absent_naming_part_and_address() -> None:
    def nak() -> None:
        raise OSError(errno.EREMOTEIO, "Remote I/O error")

    with pytest.raises(DeviceAbsent, match=r"no answer from display at 0x3C.*check its wiring"):
        i2c_call("display", 0x3C, nak)


# --- font ----------------------------------------------------------------------------


def test_font_fits_four_lines_of_twenty_one_columns() -> None:
    assert (font.LINES, font.COLUMNS) == (4, 21)
    assert font.fit("x" * 40) == "x" * font.COLUMNS


def test_font_replaces_what_it_cannot_draw_and_keeps_latin1_letters() -> None:
    assert font.fit("Sidik jari ké-2 ✓ €") == "Sidik jari ké-2 ? ?"
    assert font.fit("“Tekan” – OK") == '"Tekan" - OK'
    assert font.fit("e\u0301") == "é"  # a combining accent is composed, not dropped


@given(st.lists(st.text(max_size=40), max_size=font.LINES))
def test_font_renders_any_text_without_crashing(lines: list[str]) -> None:
    image = font.render_lines(lines)
    assert (image.mode, image.size) == ("1", (128, 64))


def test_font_refuses_too_many_lines_and_a_bare_string() -> None:
    with pytest.raises(ValueError, match="5 lines"):
        font.render_lines(["a"] * 5)
    with pytest.raises(TypeError):
        font.render_lines("hello")


# --- SSD1306 -------------------------------------------------------------------------


def test_display_initialises_the_panel_on_construction(
    display: SSD1306, panel: SSD1306Model
) -> None:
    assert panel.commands[0] == (0xAE,)
    assert (0x20, 0x00) in panel.commands
    assert (0x8D, 0x14) in panel.commands
    assert panel.commands[-1] == (0xAF,)
    assert panel.display_on and panel.charge_pump
    assert panel.unknown == []


def test_display_shows_text_as_the_font_renders_it(display: SSD1306, panel: SSD1306Model) -> None:
    lines = ["Selamat pagi!", "Letakkan jari", "telunjuk kanan", "Tekan OK ✓"]
    display.show(lines)
    assert panel.to_image().tobytes() == font.render_lines(lines).tobytes()
    assert any(panel.ram)  # something is actually lit
    assert "█" in panel.to_text() or "▀" in panel.to_text()
    assert panel.to_png().startswith(b"\x89PNG")


def test_display_refresh_is_windowed_and_sent_in_chunks_of_at_most_32(
    display: SSD1306, panel: SSD1306Model
) -> None:
    panel.writes.clear()
    display.show(["OK"])
    assert panel.writes[0] == (0x00, bytes([0x21, 0x00, 0x7F]))
    assert panel.writes[1] == (0x00, bytes([0x22, 0x00, 0x07]))
    chunks = _data_writes(panel)
    assert all(len(chunk) <= 32 for chunk in chunks)
    assert sum(len(chunk) for chunk in chunks) == 1024


def test_display_show_clears_the_lines_it_does_not_use(
    display: SSD1306, panel: SSD1306Model
) -> None:
    display.show(["satu", "dua", "tiga", "empat"])
    display.show(["satu"])
    assert panel.to_image().tobytes() == font.render_lines(["satu"]).tobytes()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=font.LINES))
def test_display_shows_any_text_exactly(lines: list[str]) -> None:
    panel = SSD1306Model()
    with SSD1306(bus=RegisterBus([panel])) as display:
        display.show(lines)
    assert panel.to_image().tobytes() == font.render_lines(lines).tobytes()


def test_display_contrast_is_range_checked(display: SSD1306, panel: SSD1306Model) -> None:
    display.contrast(0x20)
    assert panel.contrast == 0x20
    with pytest.raises(ValueError, match=r"0\.\.255"):
        display.contrast(256)


def test_display_image_must_be_panel_sized(display: SSD1306) -> None:
    with pytest.raises(ValueError, match="128x64"):
        display.image(Image.new("1", (64, 32)))


def test_display_missing_fails_the_constructor_with_device_absent() -> None:
    with pytest.raises(DeviceAbsent, match=r"display at 0x3C.*check its wiring") as absent:
        SSD1306(bus=RegisterBus())
    assert absent.value.device == "display"


def test_display_unplugged_later_raises_device_absent_and_recovers(
    display: SSD1306, panel: SSD1306Model
) -> None:
    panel.inject("unplugged")
    with pytest.raises(DeviceAbsent):
        display.show(["halo"])
    with pytest.raises(DeviceAbsent):
        display.probe()
    panel.clear_faults()
    assert display.probe().model == "SSD1306"


def test_display_close_twice_leaves_a_borrowed_bus_open(bus: RegisterBus) -> None:
    display = SSD1306(bus=bus)
    display.close()
    display.close()
    assert not bus.closed
    with pytest.raises(DeviceAbsent, match="closed"):
        display.show(["x"])


def test_panel_model_honours_single_command_control_bytes(panel: SSD1306Model) -> None:
    bus = RegisterBus([panel])
    bus.write_i2c_block_data(0x3C, 0x80, [0xAF, 0x80, 0x8D, 0x80, 0x14])
    assert panel.commands == [(0xAF,), (0x8D, 0x14)]
    assert panel.display_on and panel.charge_pump


# --- MAX17048 ------------------------------------------------------------------------


@given(
    vcell=st.integers(0, 0xFFFF),
    soc=st.integers(0, 0xFFFF),
    crate=st.integers(0, 0xFFFF),
)
def test_battery_converts_big_endian_registers(vcell: int, soc: int, crate: int) -> None:
    chip = RawMemory(0x36)
    for register, value in ((0x02, vcell), (0x04, soc), (0x08, 0x0012), (0x16, crate)):
        chip.memory[register : register + 2] = value.to_bytes(2, "big")
    with MAX17048(bus=RegisterBus([chip])) as battery:
        assert battery.voltage == pytest.approx(vcell * 78.125e-6)
        assert battery.percent == pytest.approx(soc / 256)
        signed = crate - 0x10000 if crate >= 0x8000 else crate
        assert battery.rate == pytest.approx(signed * 0.208)
        reading = battery.read()
    assert reading.percent == pytest.approx(min(soc / 256, 100.0))


def test_battery_reads_the_model(battery: MAX17048, gauge: MAX17048Model) -> None:
    reading = battery.read()
    assert reading.percent == pytest.approx(80.0, abs=1 / 256)
    assert reading.voltage == pytest.approx(gauge.voltage, abs=78.125e-6)
    assert reading.rate == pytest.approx(-10.0, abs=0.208)
    info = battery.probe()
    assert (info.model, info.detail["version"]) == ("MAX17048", "0x0012")


def test_battery_drains_as_the_clock_steps(
    battery: MAX17048, gauge: MAX17048Model, clock: SteppedClock
) -> None:
    readings = []
    for _ in range(4):
        readings.append(battery.read())
        clock.advance(1800)
    assert [r.percent for r in readings] == pytest.approx([80, 75, 70, 65], abs=1 / 256)
    assert all(a.voltage > b.voltage for a, b in itertools.pairwise(readings))
    clock.advance(10 * 3600)
    assert battery.read().percent == 0.0


def test_battery_charges_and_stops_at_full(
    battery: MAX17048, gauge: MAX17048Model, clock: SteppedClock
) -> None:
    gauge.set_percent(90.0)
    gauge.charge(40.0)
    clock.advance(900)
    reading = battery.read()
    assert reading.percent == pytest.approx(100.0, abs=1 / 256)
    assert reading.rate == pytest.approx(40.0, abs=0.208)
    assert reading.voltage == pytest.approx(4.2, abs=0.001)
    with pytest.raises(ValueError):
        gauge.charge(-1)


def test_battery_drain_fault_drops_to_four_percent(battery: MAX17048, gauge: MAX17048Model) -> None:
    gauge.inject("drain")
    assert battery.read().percent == pytest.approx(4.0, abs=1 / 256)


def test_battery_wrong_version_is_a_protocol_error(battery: MAX17048, gauge: MAX17048Model) -> None:
    gauge.inject("wrong-version")
    with pytest.raises(ProtocolError, match="0x0000"):
        battery.probe()
    gauge.clear_faults()
    assert battery.probe().model == "MAX17048"


def test_battery_missing_or_unplugged_is_device_absent(
    battery: MAX17048, gauge: MAX17048Model
) -> None:
    with pytest.raises(DeviceAbsent, match="battery at 0x36"):
        MAX17048(bus=RegisterBus())
    gauge.inject("unplugged")
    with pytest.raises(DeviceAbsent):
        battery.read()


def test_gauge_model_reset_command_is_not_acknowledged(gauge: MAX17048Model) -> None:
    bus = RegisterBus([gauge])
    with pytest.raises(OSError):
        bus.write_word_data(0x36, 0xFE, 0x0054)  # 0x5400, low byte first on SMBus
    assert gauge.writes[-1] == (0xFE, bytes([0x54, 0x00]))


# --- DS3231 --------------------------------------------------------------------------


def test_clock_reads_its_start_and_runs_with_the_clock(
    rtc_driver: DS3231, clock: SteppedClock
) -> None:
    assert rtc_driver.read() == ClockReading(START, True)
    clock.advance(90)
    assert rtc_driver.read().time == START + timedelta(seconds=90)


def test_clock_set_writes_bcd_in_24_hour_mode(rtc_driver: DS3231, rtc: DS3231Model) -> None:
    rtc_driver.set(datetime(2031, 12, 6, 21, 7, 9, tzinfo=UTC))  # a Saturday
    assert (0x00, bytes([0x09, 0x07, 0x21, 0x06, 0x06, 0x12, 0x31])) in rtc.writes


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59), timezones=st.just(UTC))
)
def test_clock_set_then_read_round_trips(when: datetime) -> None:
    with DS3231(bus=RegisterBus([DS3231Model(START, clock=SteppedClock())])) as rtc:
        rtc.set(when)
        assert rtc.read().time == when.replace(microsecond=0)


def test_clock_uses_the_century_bit_after_2099(rtc_driver: DS3231, rtc: DS3231Model) -> None:
    rtc_driver.set(datetime(2150, 3, 1, tzinfo=UTC))
    assert rtc.writes[0][1][5] == 0x80 | 0x03
    assert rtc_driver.read().time == datetime(2150, 3, 1, tzinfo=UTC)


def test_clock_set_converts_other_zones_to_utc(rtc_driver: DS3231) -> None:
    wib = timezone(timedelta(hours=7))
    rtc_driver.set(datetime(2024, 1, 1, 6, 0, tzinfo=wib))
    assert rtc_driver.read().time == datetime(2023, 12, 31, 23, 0, tzinfo=UTC)


def test_clock_set_refuses_naive_times_and_years_it_cannot_hold(rtc_driver: DS3231) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        rtc_driver.set(datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="1999"):
        rtc_driver.set(datetime(1999, 12, 31, tzinfo=UTC))


def test_clock_oscillator_stop_makes_time_untrustworthy_until_set(
    rtc_driver: DS3231, rtc: DS3231Model, clock: SteppedClock
) -> None:
    rtc.inject("osc-stopped")
    clock.advance(3600)
    reading = rtc_driver.read()
    assert reading == ClockReading(START, False)  # it stood still
    rtc.clear_faults()
    clock.advance(5)
    assert rtc_driver.read() == ClockReading(START + timedelta(seconds=5), False)
    rtc_driver.set(datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC))
    assert rtc_driver.read().trustworthy
    assert not rtc.osf
    assert rtc_driver.probe().detail["oscillator"] == "running"


def test_clock_started_stopped_reports_untrustworthy(clock: SteppedClock) -> None:
    model = DS3231Model(START, clock=clock, stopped=True)
    with DS3231(bus=RegisterBus([model])) as rtc:
        assert rtc.probe().detail["oscillator"] == "stopped since last set"
        assert not rtc.read().trustworthy


def test_clock_set_keeps_the_oscillator_running_on_battery(
    rtc_driver: DS3231, rtc: DS3231Model
) -> None:
    rtc.registers[0x0E] = 0x9C  # EOSC set: it would stop on the coin cell
    rtc_driver.set(START)
    assert rtc.registers[0x0E] == 0x1C


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(0x40 | 0x12, 0), (0x40 | 0x20 | 0x12, 12), (0x40 | 0x20 | 0x01, 13), (0x40 | 0x11, 11)],
)
def test_clock_reads_a_chip_left_in_12_hour_mode(hours: int, expected: int) -> None:
    chip = RawMemory(0x68)
    chip.memory[0:7] = bytes([0x00, 0x30, hours, 0x01, 0x15, 0x07, 0x24])
    with DS3231(bus=RegisterBus([chip])) as rtc:
        assert rtc.read().time == datetime(2024, 7, 15, expected, 30, tzinfo=UTC)


def test_clock_model_keeps_12_hour_mode_it_was_written(rtc: DS3231Model) -> None:
    bus = RegisterBus([rtc])
    bus.write_byte_data(0x68, 0x02, 0x40 | 0x20 | 0x03)  # 3 PM, 12-hour mode
    assert bus.read_byte_data(0x68, 0x02) == 0x40 | 0x20 | 0x03
    with DS3231(bus=bus) as driver:
        assert driver.read().time.hour == 15


def test_clock_registers_with_no_valid_date_are_not_trustworthy() -> None:
    chip = RawMemory(0x68)
    chip.memory[0:7] = bytes([0x00, 0x00, 0x00, 0x01, 0x31, 0x02, 0x24])  # 31 February
    with (
        DS3231(bus=RegisterBus([chip])) as rtc,
        pytest.raises(ClockNotTrustworthy, match="set the time"),
    ):
        rtc.read()


@pytest.mark.parametrize("celsius", [25.0, -2.25, 31.75, -40.0])
def test_clock_temperature(rtc_driver: DS3231, rtc: DS3231Model, celsius: float) -> None:
    rtc.temperature = celsius
    assert rtc_driver.temperature == celsius


def test_clock_missing_or_unplugged_is_device_absent(rtc_driver: DS3231, rtc: DS3231Model) -> None:
    with pytest.raises(DeviceAbsent, match="clock at 0x68"):
        DS3231(bus=RegisterBus())
    rtc.inject("unplugged")
    with pytest.raises(DeviceAbsent):
        rtc_driver.read()
    with pytest.raises(DeviceAbsent):
        rtc_driver.set(START)
