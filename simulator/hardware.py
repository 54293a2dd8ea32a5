"""The kit's real drivers on the simulator's wire emulators (a simulator module).

:func:`sim_wired_devices` opens `firmware.hardware`'s drivers on a
:class:`hw_sim.wired.WiredKit`.  Its two thin adapters (:class:`PresentedFinger`,
:class:`PresentedSignature`) let the simulated person step up before a capture; they are
the only code on the kit's side that knows it is simulated.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from firmware.config import DevicePorts
from firmware.hardware import REPLY_TIMEOUT_SECONDS, Absent, Opened, real_devices
from firmware.power import open_coprocessor
from firmware.selftest import Verdict, run_selftest
from hal.contracts import FingerprintSensor, SignaturePad
from hal.coprocessor import PowerCoprocessor
from hal.types import (
    DeviceInfo,
    FingerImage,
    FingerPosition,
    LibraryMatch,
    SensorModel,
    Signature,
)
from hw_sim.pico import PicoSim
from hw_sim.timing import Timing
from hw_sim.wired import WiredKit
from hw_sim.world import World


class PresentedFinger:
    """The real sensor driver; before each capture the simulated subject offers a finger.

    When nobody will put a finger down, the wait is cut to ``wait_scale`` of its timeout:
    the driver still polls the emulator and raises NoFinger, without a test sitting out
    the full ten seconds.
    """

    def __init__(self, sensor: FingerprintSensor, wired: WiredKit, *, wait_scale: float) -> None:
        self.name = sensor.name
        self._sensor = sensor
        self._wired = wired
        self._wait_scale = wait_scale

    def __repr__(self) -> str:
        return f"<PresentedFinger {self._sensor!r}>"

    def _wait(self, offered: bool, timeout: float) -> float:
        return timeout if offered else timeout * self._wait_scale

    def take_image(self, position: FingerPosition, *, timeout: float) -> None:
        offered = self._wired.present_finger(position)
        self._sensor.take_image(position, timeout=self._wait(offered, timeout))

    def upload_image(self, position: FingerPosition) -> FingerImage:
        return self._sensor.upload_image(position)

    def identify(self, *, timeout: float) -> LibraryMatch:
        offered = self._wired.present_finger(None)
        return self._sensor.identify(timeout=self._wait(offered, timeout))

    def probe(self) -> DeviceInfo:
        return self._sensor.probe()

    def enrol(self, page: int, template: bytes) -> None:
        self._sensor.enrol(page, template)

    def search(self, template: bytes, *, pages: int | None = None) -> LibraryMatch:
        return self._sensor.search(template, pages=pages)

    def match(self, template: bytes, others: Sequence[bytes]) -> int | None:
        return self._sensor.match(template, others)

    def delete(self, page: int) -> None:
        self._sensor.delete(page)

    def library_count(self) -> int:
        return self._sensor.library_count()

    def held_pages(self) -> frozenset[int]:
        return self._sensor.held_pages()

    def clear_library(self) -> None:
        self._sensor.clear_library()

    def close(self) -> None:
        self._sensor.close()


#: The shortest pen-up pause that ends a simulated signature.
SIM_MIN_SETTLE_SECONDS = 0.3


class PresentedSignature:
    """The real pad driver; before each capture the simulated subject signs the pad."""

    def __init__(self, pad: SignaturePad, wired: WiredKit, *, wait_scale: float) -> None:
        self.name = pad.name
        self._pad = pad
        self._wired = wired
        self._wait_scale = wait_scale

    def __repr__(self) -> str:
        return f"<PresentedSignature {self._pad!r}>"

    def capture(self, *, timeout: float, settle: float = 1.5) -> Signature:
        signing = self._wired.present_signature()
        # the simulated hand signs at once and lifts the pen for good: a scripted session
        # need not wait the full pause a real signer gets, only longer than a pen lift
        settle = max(settle * self._wait_scale, min(settle, SIM_MIN_SETTLE_SECONDS))
        try:
            return self._pad.capture(
                timeout=timeout if signing else timeout * self._wait_scale, settle=settle
            )
        finally:
            self._wired.signature_ended()

    def probe(self) -> DeviceInfo:
        return self._pad.probe()

    def close(self) -> None:
        self._pad.close()


def emulator_ports(wired: WiredKit) -> DevicePorts:
    """The serial parts' ptys as a kit's configuration names its ports.

    No provisioning port and no co-processor: the simulator serves those itself.
    """
    return DevicePorts(
        fingerprint=wired.fingerprint.port,
        signature_pad=wired.signature_pad.port,
        card_printer=wired.card_printer.port,
        receipt_printer=wired.receipt_printer.port,
        provisioning="",
    )


def sim_wired_devices(
    wired: WiredKit, *, wait_scale: float = 1.0, reply_timeout: float = REPLY_TIMEOUT_SECONDS
) -> Opened:
    """The real drivers on ``wired``'s emulators, with its world's people stepping up.

    ``wait_scale`` shortens waits for a finger or a pen that nobody will bring (0.02 in
    tests); a real capture always gets its full timeout.
    """
    opened = real_devices(
        emulator_ports(wired),
        bus=wired.bus,
        pin_factory=wired.pin_factory,
        camera=wired.camera,
        reply_timeout=reply_timeout,
        sensor=wired.fingerprint.model,
    )
    devices = opened.devices
    if not isinstance(devices.fingerprint, Absent):
        devices.fingerprint = PresentedFinger(devices.fingerprint, wired, wait_scale=wait_scale)
    if not isinstance(devices.signature_pad, Absent):
        devices.signature_pad = PresentedSignature(
            devices.signature_pad, wired, wait_scale=wait_scale
        )
    return opened


@contextlib.contextmanager
def wired_kit(
    world: World,
    *,
    hopper: int = 100,
    sensor: SensorModel = SensorModel.R307,
    timing: Timing | None = None,
    faults: Sequence[tuple[str, str]] = (),
    wait_scale: float = 1.0,
    reply_timeout: float = REPLY_TIMEOUT_SECONDS,
) -> Iterator[tuple[WiredKit, Opened]]:
    """A :class:`WiredKit` with ``faults`` (device, kind) injected and the drivers opened
    (the fingerprint driver configured for the emulated ``sensor``).

    ``timing`` is the emulators' clock (None: hw_sim's default, real time unless
    ``JEMPUT_TIMING=fast``).  The faults are injected before the drivers open, as a part
    is broken before the technician switches the kit on.  On exit the drivers close, then
    the emulators.
    """
    with WiredKit(world, hopper=hopper, sensor=sensor, timing=timing) as wired:
        for device, kind in faults:
            wired.inject(device, kind)
        opened = sim_wired_devices(wired, wait_scale=wait_scale, reply_timeout=reply_timeout)
        try:
            yield wired, opened
        finally:
            opened.devices.close()


#: Fault kinds per simulated device, for ``jemput-kit sim selftest --fault`` to check and list.
DEVICE_FAULTS = {**WiredKit.DEVICE_FAULTS, "coprocessor": PicoSim.FAULTS}
#: The bench's co-processor driver deadline: the Pico's firmware runs under MicroPython
#: on a machine that may be busy, so it gets more than the kit's 0.5 s.
BENCH_COPROCESSOR_TIMEOUT = 2.0


def bench_verdicts(faults: list[tuple[str, str]], seed: int, timeout: float) -> list[Verdict]:
    """Selftest on the real drivers over the wire emulators, with ``faults`` injected;
    the co-processor is the Pico's own firmware under MicroPython (PicoSim)."""
    world = World(seed, clock_speed=0.0)
    # the technician at the bench: someone with ten good fingers and a signature
    world.subject = next(p for p in world.residents if not p.fingers)
    wired_faults = [(device, kind) for device, kind in faults if device != "coprocessor"]
    with (
        PicoSim() as pico,
        wired_kit(world, faults=wired_faults, wait_scale=0.1, reply_timeout=0.5) as (_, opened),
    ):
        for _, kind in set(faults) - set(wired_faults):
            pico.inject(kind)
        coprocessor = open_coprocessor(pico.port, timeout=BENCH_COPROCESSOR_TIMEOUT)
        try:
            return run_selftest(opened.devices, timeout=timeout, coprocessor=coprocessor)
        finally:
            if isinstance(coprocessor, PowerCoprocessor):
                coprocessor.close()
