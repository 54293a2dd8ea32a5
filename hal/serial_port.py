"""What the serial drivers share: one pyserial port whose faults are :mod:`hal.exc` leaves.

The fingerprint sensor, the signature pad and both printers each own one port.  pyserial
raises ``SerialException`` or ``OSError`` when a port is missing or goes away mid-job, and
``SerialTimeoutException`` when a write cannot finish; every call goes through
:class:`SerialPort` so these become :class:`~hal.exc.DeviceAbsent` and
:class:`~hal.exc.DeviceTimeout` naming the part, the port and what to check.

A read never blocks longer than one poll interval, so the driver's loop looks at its own
``time.monotonic()`` deadline at least that often; the port's read timeout is set once,
never per read (pyserial reconfigures the tty each time it is set).
"""

from __future__ import annotations

import serial

from hal.exc import DeviceAbsent, DeviceTimeout

_PORT_FAULTS = (OSError, serial.SerialException)


class SerialPort:
    """One open serial port of the device ``device``.

    ``label`` names the part in messages ("card printer"); ``advice`` says what to check
    when the port fails ("check its power and USB cable").  ``poll`` is the longest one
    :meth:`read` waits; ``settings`` go to ``serial.Serial`` (baudrate, parity,
    write_timeout...).  Opening a missing port raises DeviceAbsent.
    """

    def __init__(
        self, port: str, *, device: str, label: str, advice: str, poll: float, **settings: object
    ) -> None:
        self.port = port
        self.device = device
        self.label = label
        self.advice = advice
        self._serial: serial.Serial | None = None
        try:
            self._serial = serial.Serial(port, timeout=poll, **settings)
        except _PORT_FAULTS as exc:
            raise self.absent(f"cannot open the port ({exc})") from exc

    @property
    def closed(self) -> bool:
        return self._serial is None

    @property
    def baudrate(self) -> int:
        return self._open().baudrate

    @property
    def byte_seconds(self) -> float:
        """How long one byte takes on the line at the port's settings: its start bit,
        data bits, parity bit (if any) and stop bits at the baud rate."""
        port = self._open()
        parity_bits = 0 if port.parity == serial.PARITY_NONE else 1
        return (1 + port.bytesize + parity_bits + port.stopbits) / port.baudrate

    def set_baudrate(self, baudrate: int) -> None:
        try:
            self._open().baudrate = baudrate
        except _PORT_FAULTS as exc:
            raise self.absent(f"cannot set {baudrate} baud ({exc})") from exc

    def absent(self, what: str) -> DeviceAbsent:
        """DeviceAbsent: ``<label> on <port>: <what>; <advice>``."""
        return DeviceAbsent(
            f"{self.label} on {self.port}: {what}; {self.advice}", device=self.device
        )

    def timeout(self, what: str) -> DeviceTimeout:
        """DeviceTimeout: ``<label> on <port>: <what>; <advice>``."""
        return DeviceTimeout(
            f"{self.label} on {self.port}: {what}; {self.advice}", device=self.device
        )

    def reset_input(self) -> None:
        """Drop what arrived unread (a late answer to an earlier request is not ours)."""
        try:
            self._open().reset_input_buffer()
        except _PORT_FAULTS as exc:
            raise self.absent(f"cannot flush the port ({exc})") from exc

    def read(self) -> bytes:
        """What has arrived, waiting at most one poll for a first byte; b"" if none came."""
        port = self._open()
        try:
            return port.read(port.in_waiting or 1)
        except _PORT_FAULTS as exc:
            raise self.absent(f"reading failed ({exc})") from exc

    def write(self, data: bytes, *, timeout: float | None = None, during: str = "") -> None:
        """Send ``data``; a write still blocked after the port's write timeout (or
        ``timeout`` seconds, when given) raises DeviceTimeout, saying ``during`` what."""
        port = self._open()
        try:
            if timeout is not None and port.write_timeout != timeout:
                port.write_timeout = timeout  # the tty's termios stay as they are
            port.write(data)
        except serial.SerialTimeoutException as exc:
            what = f" during {during}" if during else ""
            raise self.timeout(f"took no data for {port.write_timeout:.1f} s{what}") from exc
        except _PORT_FAULTS as exc:
            raise self.absent(f"writing failed ({exc})") from exc

    def close(self) -> None:
        """Release the port; safe to call twice."""
        port, self._serial = self._serial, None
        if port is not None:
            port.close()

    def _open(self) -> serial.Serial:
        if self._serial is None:
            raise DeviceAbsent(
                f"{self.label} on {self.port} was closed; open the driver again",
                device=self.device,
            )
        return self._serial
