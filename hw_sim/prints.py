"""What the simulated printers keep of their output: the last few prints, not a day's.

A developer or a test looks at the latest cards and slips; a whole outreach day of card
images (2.6 MB each as Pillow holds a card's RGB) held in memory would be the simulator's
growth, and would show in the kit's memory figures (``make bench``) as if it were the
kit's.  Keeping 32 held about 70 MB by the 30th person of a demo; what is kept only has
to outlast the next look: the output tray (`simulator.tray`) saves the new prints after
each person and on each refresh of the page, and a person prints a card and a slip or two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from PIL import Image

#: How many prints a simulated printer keeps in ``printed``.
KEPT_PRINTS = 4


class KeptPrints(list[Image.Image]):
    """A list of prints that forgets all but the last :data:`KEPT_PRINTS` as it grows;
    :attr:`total` counts every print ever appended (what a watcher compares against)."""

    total: int = 0

    def append(self, image: Image.Image) -> None:
        super().append(image)
        self.total += 1
        del self[:-KEPT_PRINTS]

    def extend(self, images: Iterable[Image.Image]) -> None:
        for image in images:
            self.append(image)

    def __iadd__(self, images: Iterable[Image.Image]) -> Self:  # type: ignore[override,misc]
        self.extend(images)
        return self


def kept_prints() -> KeptPrints:
    """An empty ``printed`` list for a simulated printer."""
    return KeptPrints()
