"""The printers' output trays: every printed card and slip kept as a PNG.

The printer emulators decode what the drivers send into images; a tray copies each new
one into the data folder's ``printed/`` (0700, files 0600: a card shows a face and a NIK),
so a developer or trainer can look at what a kit printed after the run.
"""

from __future__ import annotations

import enum
import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image

from storage.files import write_atomic

PRINTED_DIR = "printed"


class Output(enum.Enum):
    """What came out of which printer."""

    CARD = "card"
    SLIP = "slip"


class PrintLog(Protocol):
    """A printer's latest prints, oldest first, and how many it has printed in all (a
    simulated printer keeps only its last few: hw_sim.prints)."""

    total: int

    def __iter__(self) -> Iterator[Image.Image]: ...

    def __len__(self) -> int: ...


class Printer(Protocol):
    """What a tray reads from a printer emulator: the images it printed, in order."""

    @property
    def printed(self) -> PrintLog: ...


@dataclass(frozen=True)
class Printed:
    """One item in a tray, as the page lists it."""

    kind: Output
    number: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


class OutputTray:
    """Collects what ``card`` and ``receipt`` printed into ``data_dir/printed``.

    :meth:`collect` is cheap when nothing new was printed, so callers may call it often
    (the page's refresh, the demo after each person).  Numbering continues across runs on
    one data folder, so a second ``make run`` never overwrites the first run's cards.
    """

    def __init__(self, data_dir: Path, *, card: Printer, receipt: Printer) -> None:
        self.folder = data_dir / PRINTED_DIR
        self._sources = {Output.CARD: card, Output.SLIP: receipt}
        self._seen = dict.fromkeys(Output, 0)
        self._lock = threading.Lock()
        self.items: list[Printed] = []
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self._next = {kind: self._last_number(kind) + 1 for kind in Output}

    def _last_number(self, kind: Output) -> int:
        numbers = [
            int(path.stem.rsplit("-", 1)[1])
            for path in self.folder.glob(f"{kind.value}-*.png")
            if path.stem.rsplit("-", 1)[1].isdigit()
        ]
        return max(numbers, default=0)

    def collect(self) -> list[Printed]:
        """Save what was printed since the last call; returns the new items."""
        new: list[Printed] = []
        with self._lock:
            for kind, printer in self._sources.items():
                images = list(printer.printed)  # the printer keeps only its latest
                total = printer.printed.total
                unseen = min(total - self._seen[kind], len(images))
                for image in images[len(images) - unseen :]:
                    new.append(self._save(kind, image))
                self._seen[kind] = total
            self.items.extend(new)
        return new

    def _save(self, kind: Output, image: Image.Image) -> Printed:
        number = self._next[kind]
        self._next[kind] += 1
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        path = self.folder / f"{kind.value}-{number:04d}.png"
        write_atomic(path, buffer.getvalue())
        return Printed(kind, number, path)

    def find(self, name: str) -> Printed | None:
        """The item called ``name`` (as listed), or None: never a path from outside."""
        with self._lock:
            return next((item for item in self.items if item.name == name), None)
