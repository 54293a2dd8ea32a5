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

from collections.abc import Callable
from typing import Any, TypeVar

import smbus2

from hal.contracts import Closing
from hal.exc import DeviceAbsent

T = TypeVar("T")


def open_bus(bus: int | object) -> Any:
    """An ``smbus2.SMBus`` for a bus number, or ``bus`` itself if it is already a bus."""
    if not isinstance(bus, int):
        return bus
    try:
        return smbus2.SMBus(bus)
    except OSError as error:
        raise DeviceAbsent(
            f"cannot open I2C bus {bus} (/dev/i2c-{bus}): {error.strerror or error}: "
            "enable I2C on the Pi (raspi-config) and check the kit's wiring",
            device="i2c",
        ) from error


def i2c_call(device_name: str, address: int, fn: Callable[..., T], *args: Any) -> T:
    """Call ``fn(*args)``; a bus error means the chip did not answer: DeviceAbsent."""
    try:
        return fn(*args)
    except OSError as error:
        raise DeviceAbsent(
            f"no answer from {device_name} at 0x{address:02X} on I2C "
            f"({error.strerror or error}): check its wiring",
            device=device_name,
        ) from error


class I2CDevice(Closing):
    """Base of one chip's driver: holds the bus and address, closes what it opened.

    Subclasses talk to the chip only through :meth:`_call` and, once their own
    attributes are set, check the chip with :meth:`_start` so a missing part fails
    the constructor (releasing the bus) instead of the first prompt.
    """

    def __init__(self, *, bus: int | object, address: int, name: str) -> None:
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

    def _call(self, operation: str, *args: Any) -> Any:
        """Run an SMBus ``operation`` (e.g. ``"read_word_data"``) on our address."""
        if self._closed:
            raise DeviceAbsent(
                f"{self.name} driver at 0x{self.address:02X} was closed: open it again",
                device=self.name,
            )
        return i2c_call(self.name, self.address, getattr(self._bus, operation), self.address, *args)

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
