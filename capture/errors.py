"""Errors of the capture loop itself (device faults are :mod:`hal.exc`'s)."""

from __future__ import annotations


class CaptureError(Exception):
    """Base of the capture loop's own errors."""


class TransitionDuringEntry(CaptureError, RuntimeError):
    """A step sent an event while being entered; it must queue it with ``follow`` instead."""


class NotOnScreen(CaptureError, LookupError):
    """What a driver of the kit looked for is not on its screen (a menu line, a digit entry)."""
