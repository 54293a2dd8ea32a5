"""What the I2C drivers share: opening the bus, and one way to report a silent chip.

The display, the fuel gauge and the clock hang on the same bus, so a driver handed a bus
object (the real ``smbus2.SMBus`` another driver opened, or the simulator's register bus)
borrows it and never closes it; only a driver given a bus *number* opens and owns one.
An I2C chip that does not acknowledge its address makes the kernel raise ``OSError``
(``EREMOTEIO``/``ENXIO``); every call goes through :func:`i2c_call` so that becomes a
:class:`hal.exc.DeviceAbsent` naming the part and what to check.

I2C transfers are bounded by the bus driver's own timeout and none of these parts makes
us poll, so no call here needs a deadline of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import smbus2

from hal.contracts import Closing
from hal.exc import DeviceAbsent

T = TypeVar("T")


class SMBus(Protocol):
    """The ``smbus2.SMBus`` calls our drivers make; the simulator's register bus has them too."""

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int: ...

    def write_byte_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None: ...

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int: ...

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]: ...

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: Sequence[int], force: bool | None = None
    ) -> None: ...

    def close(self) -> None: ...


def open_bus(bus: int | SMBus) -> SMBus:
    """An ``smbus2.SMBus`` for a bus number, or ``bus`` itself if it is already a bus."""
    if not isinstance(bus, int):
        return bus
    try:
        opened: SMBus = smbus2.SMBus(bus)
        return opened
    except OSError as error:
        raise DeviceAbsent(
            f"cannot open I2C bus {bus} (/dev/i2c-{bus}): {error.strerror or error}: "
            "enable I2C on the Pi (raspi-config) and check the kit's wiring",
            device="i2c",
        ) from error


def i2c_call(device_name: str, address: int, transfer: Callable[[], T]) -> T:
    """Run ``transfer``; a bus error means the chip did not answer: DeviceAbsent."""
    try:
        return transfer()
    except OSError as error:
        raise DeviceAbsent(
            f"no answer from {device_name} at 0x{address:02X} on I2C "
            f"({error.strerror or error}): check its wiring",
            device=device_name,
        ) from error


class I2CDevice(Closing):
    """Base of one chip's driver: holds the bus and address, closes what it opened.

    Subclasses talk to the chip only through the ``_read_*``/``_write_*`` transfers and,
    once their own
    attributes are set, check the chip with :meth:`_start` so a missing part fails
    the constructor (releasing the bus) instead of the first prompt.
    """

    def __init__(self, *, bus: int | SMBus, address: int, name: str) -> None:
        self.name = name
        self.address = address
        self._owns_bus = isinstance(bus, int)
        self._bus = open_bus(bus)
        self._closed = False

    def _start(self, check: Callable[[], object]) -> None:
        try:
            check()
        except BaseException:
            self.close()
            raise

    def _transfer(self, transfer: Callable[[SMBus, int], T]) -> T:
        """Run ``transfer(bus, address)`` for our chip, its bus errors made typed."""
        if self._closed:
            raise DeviceAbsent(
                f"{self.name} driver at 0x{self.address:02X} was closed: open it again",
                device=self.name,
            )
        bus, address = self._bus, self.address
        return i2c_call(self.name, address, lambda: transfer(bus, address))

    def _read_byte(self, register: int) -> int:
        return self._transfer(lambda bus, address: bus.read_byte_data(address, register))

    def _write_byte(self, register: int, value: int) -> None:
        self._transfer(lambda bus, address: bus.write_byte_data(address, register, value))

    def _read_word(self, register: int) -> int:
        return self._transfer(lambda bus, address: bus.read_word_data(address, register))

    def _read_block(self, register: int, length: int) -> list[int]:
        return self._transfer(
            lambda bus, address: bus.read_i2c_block_data(address, register, length)
        )

    def _write_block(self, register: int, data: Sequence[int]) -> None:
        self._transfer(lambda bus, address: bus.write_i2c_block_data(address, register, data))

    def close(self) -> None:
        """Release the bus if we opened it; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._owns_bus:
            self._bus.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {self.name} at 0x{self.address:02X} {state}>"
