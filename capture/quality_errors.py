"""The errors of the quality checks: one root, leaves that also inherit a builtin."""

from __future__ import annotations


class QualityError(Exception):
    """A quality check could not judge what it was given."""


class ImageUnreadable(QualityError, ValueError):
    """The bytes or the file are not an image the check can decode."""


class DetectorMissing(QualityError, FileNotFoundError):
    """OpenCV was installed without the Haar cascade files the face check needs."""
