"""Keperluan: why a person records, which decides where the card is printed.

Here rather than in `storage.model` because the simulated world (`hw_sim`) gives its
residents one too, and `hw_sim` may not import `storage`.
"""

from __future__ import annotations

import enum


class Purpose(enum.Enum):
    """Keperluan: why the person records.  Only a first recording is printed on site."""

    BARU = "BARU"
    HILANG = "HILANG"
    RUSAK = "RUSAK"
    PERUBAHAN_DATA = "PERUBAHAN DATA"

    @property
    def prints_on_site(self) -> bool:
        """Lost, damaged and changed-data cards are printed at the Disdukcapil office."""
        return self is Purpose.BARU
