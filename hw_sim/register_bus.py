"""The kit's I2C bus, simulated at the register level: a bus and the base of a chip model.

:class:`RegisterBus` offers the ``smbus2.SMBus`` calls our drivers use and hands each
transfer, as the bytes that would cross the wire, to the register model at that address.
An address with no model (or an unplugged one) fails like a real bus: ``OSError``
``EREMOTEIO``.  Word transfers are little-endian like SMBus, so a model of a big-endian
part (the MAX17048) answers with its bytes in wire order and the driver must swap them,
exactly as against the real chip.

Every model logs each write it receives in ``writes`` as ``(register, bytes)`` and
accepts faults from ``FAULTS`` through ``inject``; ``clear_faults`` ends them.  One chip,
one module: :mod:`hw_sim.ssd1306_emulator`, :mod:`hw_sim.max17048_emulator`,
:mod:`hw_sim.ds3231_emulator`.
"""

from __future__ import annotations

import abc
import errno
import os
import threading
from collections.abc import Iterable, Sequence

from hal.contracts import Closing
from hw_sim.faults import FaultSwitch
from hw_sim.history import trim

#: The most an SMBus block transfer carries, as smbus2 enforces.
BLOCK_MAX = 32


def no_answer() -> OSError:
    """The error of an SMBus transfer to an address nobody acknowledges."""
    return OSError(errno.EREMOTEIO, os.strerror(errno.EREMOTEIO))


class RegisterModel(FaultSwitch, abc.ABC):
    """Base of a chip model: an address, a write log and fault injection.

    Subclasses implement ``_read(register, count)`` returning the bytes the chip
    would clock out, and ``_write(register, data)``; they may extend ``FAULTS`` and
    extend ``inject``/``clear_faults`` to act out their own faults.
    """

    def __init__(self, address: int) -> None:
        super().__init__(type(self).__name__.removesuffix("Model"))
        self.address = address
        self.writes: list[tuple[int, bytes]] = []

    @property
    def present(self) -> bool:
        """Whether the chip acknowledges its address."""
        return "unplugged" not in self.faults

    def read(self, register: int, count: int) -> bytes:
        return self._read(register, count)

    def write(self, register: int, data: bytes) -> None:
        self.writes.append((register, bytes(data)))
        trim(self.writes)
        self._write(register, bytes(data))

    @abc.abstractmethod
    def _read(self, register: int, count: int) -> bytes: ...

    @abc.abstractmethod
    def _write(self, register: int, data: bytes) -> None: ...


class RegisterBus(Closing):
    """An SMBus-compatible bus of register models, for the drivers in ``hal``."""

    def __init__(self, models: Iterable[RegisterModel] = ()) -> None:
        self.models: dict[int, RegisterModel] = {}
        self._lock = threading.Lock()
        self.closed = False
        for model in models:
            self.attach(model)

    def attach(self, model: RegisterModel) -> None:
        """Put ``model`` on the bus at its address."""
        if model.address in self.models:
            raise ValueError(f"address 0x{model.address:02X} is already taken on the bus")
        self.models[model.address] = model

    def _model(self, address: int) -> RegisterModel:
        if self.closed:
            raise OSError(errno.EBADF, "the I2C bus was closed")
        model = self.models.get(address)
        if model is None or not model.present:
            raise no_answer()
        return model

    def _read(self, address: int, register: int, count: int) -> bytes:
        with self._lock:
            return self._model(address).read(register, count)

    def _write(self, address: int, register: int, data: bytes) -> None:
        with self._lock:
            self._model(address).write(register, data)

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        return self._read(i2c_addr, register, 1)[0]

    def write_byte_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._write(i2c_addr, register, bytes([value]))

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        low, high = self._read(i2c_addr, register, 2)
        return low | (high << 8)

    def write_word_data(
        self, i2c_addr: int, register: int, value: int, force: bool | None = None
    ) -> None:
        self._write(i2c_addr, register, bytes([value & 0xFF, (value >> 8) & 0xFF]))

    def read_i2c_block_data(
        self, i2c_addr: int, register: int, length: int, force: bool | None = None
    ) -> list[int]:
        if length > BLOCK_MAX:
            raise ValueError(f"Desired block length over {BLOCK_MAX} bytes")
        return list(self._read(i2c_addr, register, length))

    def write_i2c_block_data(
        self, i2c_addr: int, register: int, data: Sequence[int], force: bool | None = None
    ) -> None:
        if len(data) > BLOCK_MAX:
            raise ValueError(f"Data length cannot exceed {BLOCK_MAX} bytes")
        self._write(i2c_addr, register, bytes(data))

    def close(self) -> None:
        self.closed = True
