"""Every error a device can raise, in one tree.

`capture/` catches these by class, never by message, so each fault the hardware can
have gets its own leaf.  Leaves also inherit the closest builtin (``TimeoutError``,
``ConnectionError``, ``ValueError``) so generic code still does the right thing.
Every message says what happened and what the officer or technician should check.
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every device fault; ``device`` names the part ("fingerprint", ...)."""

    def __init__(self, message: str, *, device: str = "") -> None:
        super().__init__(message)
        self.device = device


class DeviceAbsent(DeviceError, ConnectionError):
    """The device does not answer at all: unplugged, unpowered or wrong port."""


class DeviceTimeout(DeviceError, TimeoutError):
    """The device did not finish within its deadline."""


class DeviceBusy(DeviceError):
    """The device is doing something else and refused the request."""


class ProtocolError(DeviceError):
    """The device answered with bytes that break its wire protocol."""


class ChecksumError(ProtocolError, ValueError):
    """A frame arrived whose checksum does not match its contents."""


class FrameError(ProtocolError, ValueError):
    """A frame arrived with a bad header, length, address or packet type."""


class FingerprintError(DeviceError):
    """Base of faults reported by the fingerprint sensor."""


class NoFinger(FingerprintError):
    """No finger was on the sensor when it looked."""


class PoorImage(FingerprintError):
    """The finger image is too messy or has too few features to use."""


class NoMatch(FingerprintError):
    """The finger matched nothing in the sensor's library."""


class LibraryError(FingerprintError):
    """The sensor could not store, read or delete a template in its library."""


class WrongPassword(FingerprintError, PermissionError):
    """The sensor refused our handshake password."""


class WrongSensorModel(FingerprintError, ValueError):
    """The sensor on the port is another model than the kit's configuration names."""


class NoSignature(DeviceError):
    """The signature pad saw no pen stroke before its deadline."""


class PrinterError(DeviceError):
    """Base of faults reported by a card or receipt printer."""


class OutOfCards(PrinterError):
    """The card printer's hopper is empty: load blank cards."""


class CoverOpen(PrinterError):
    """A printer cover is open: close it and retry."""


class RibbonOut(PrinterError):
    """The card printer's ribbon is spent or missing: replace it."""


class CardJam(PrinterError):
    """A card is stuck in the printer: open it, remove the card, close it."""


class PaperOut(PrinterError):
    """The receipt printer has no paper: load a new roll."""


class ClockNotTrustworthy(DeviceError):
    """The real-time clock lost power and its time cannot be trusted: set the time."""


class CoprocessorError(DeviceError):
    """Base of faults reported by the power co-processor (the Pico)."""


class CoprocessorRefused(CoprocessorError, ValueError):
    """The co-processor refused a request (NAK): its firmware and the driver disagree."""


class CoprocessorMismatch(CoprocessorError):
    """The co-processor speaks another link protocol version: flash matching firmware."""
