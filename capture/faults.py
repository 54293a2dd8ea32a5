"""What the officer reads when a part fails: every error class has its catalogue entry.

A driver's message is English for the technician and the log (``took no data for 5 s``);
the display says what happened and what to check in the officer's language instead.
:data:`FAULTS` maps each error class of :mod:`hal.exc` (and the storage errors a seal can
meet) to a two-line entry of :mod:`capture.prompts`: what happened, what to check.  An
error is shown by its own class or, failing that, its nearest mapped base; a test keeps
every class of :mod:`hal.exc` in the table, so a new one is worded when it is added.
"""

from __future__ import annotations

from capture.prompts import CATALOGUE
from hal.exc import (
    CardJam,
    ChecksumError,
    ClockNotTrustworthy,
    CoprocessorError,
    CoprocessorMismatch,
    CoprocessorRefused,
    CoverOpen,
    DeviceAbsent,
    DeviceBusy,
    DeviceError,
    DeviceTimeout,
    FingerprintError,
    FrameError,
    LibraryError,
    NoFinger,
    NoMatch,
    NoSignature,
    OutOfCards,
    PaperOut,
    PoorImage,
    PrinterError,
    ProtocolError,
    RibbonOut,
    WrongPassword,
    WrongSensorModel,
)
from storage.errors import KeyFileError, StorageError, StorageFull

#: Error class -> catalogue key of its two lines (what happened, what to check).
FAULTS: dict[type[Exception], str] = {
    DeviceError: "fault.device",
    DeviceAbsent: "fault.absent",
    DeviceTimeout: "fault.timeout",
    DeviceBusy: "fault.busy",
    ProtocolError: "fault.protocol",
    ChecksumError: "fault.protocol",
    FrameError: "fault.protocol",
    FingerprintError: "fault.device",
    NoFinger: "fault.no_finger",
    PoorImage: "fault.poor_image",
    NoMatch: "fault.no_match",
    LibraryError: "fault.library",
    WrongPassword: "fault.wrong_password",
    WrongSensorModel: "fault.wrong_model",
    NoSignature: "fault.no_signature",
    PrinterError: "fault.device",
    OutOfCards: "fault.out_of_cards",
    CoverOpen: "fault.cover_open",
    RibbonOut: "fault.ribbon_out",
    CardJam: "fault.card_jam",
    PaperOut: "fault.paper_out",
    ClockNotTrustworthy: "fault.clock",
    CoprocessorError: "fault.power",
    CoprocessorRefused: "fault.power_firmware",
    CoprocessorMismatch: "fault.power_firmware",
    StorageError: "fault.storage",
    StorageFull: "fault.storage_full",
    KeyFileError: "fault.keys",
}

#: What an error of no mapped class shows (a bug in a job, not a part's fault).
UNKNOWN = "fault.unknown"


def fault_key(error: BaseException) -> str:
    """The catalogue key of ``error``: its class's, or its nearest mapped base's."""
    return next((FAULTS[cls] for cls in type(error).__mro__ if cls in FAULTS), UNKNOWN)


def device_key(name: str) -> str:
    """The catalogue key of the part a driver calls ``name`` ("card-printer"); a part the
    catalogue does not name is just "a part"."""
    key = f"device.{name}"
    return key if key in CATALOGUE else "device.unnamed"
