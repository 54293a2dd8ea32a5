"""What WSQ costs the simulator's fingers: compression ratio and error of the decoded image.

``python -m tests.interchange.wsq_figures [--people N]`` prints the table that
docs/interchange.md quotes; tests/interchange/test_interchange.py holds a few of the same
fingers to floors.  The original is the finger as the kit keeps it (16 grey levels in an
8-bit PNG at the sensor's size); the ratio is against its 8-bit raw pixels and against
the PNG the record holds; the error is the RMSE and PSNR (peak 255) of the decoded image.
"""

from __future__ import annotations

import argparse
import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from provisioning.interchange.images import wsq_encode
from tests.interchange.conftest import finger_png

SIZES = {"R307": (256, 288), "R503": (192, 192)}


@dataclass(frozen=True)
class Figure:
    """One finger's WSQ figures."""

    raw_bytes: int
    png_bytes: int
    wsq_bytes: int
    rmse: float

    @property
    def psnr(self) -> float:
        return 20 * math.log10(255 / self.rmse) if self.rmse else math.inf


def measure(person: int, position: int, size: tuple[int, int]) -> Figure:
    png = finger_png(person, position, size)
    with Image.open(io.BytesIO(png)) as opened:
        original = np.asarray(opened.convert("L"), dtype=np.float64)
        wsq = wsq_encode(opened.convert("L"))
    with Image.open(io.BytesIO(wsq), formats=["WSQ"]) as opened:  # NBIS's decoder
        decoded = np.asarray(opened.convert("L"), dtype=np.float64)
    rmse = float(np.sqrt(np.mean((decoded - original) ** 2)))
    return Figure(size[0] * size[1], len(png), len(wsq), rmse)


def _row(name: str, figures: list[Figure]) -> str:
    raw = sum(f.raw_bytes for f in figures)
    png = sum(f.png_bytes for f in figures)
    wsq = sum(f.wsq_bytes for f in figures)
    rmse = math.sqrt(sum(f.rmse**2 for f in figures) / len(figures))
    worst = min(f.psnr for f in figures)
    return (
        f"| {name} | {len(figures)} | {wsq / len(figures):,.0f} | {raw / wsq:.1f} : 1 | "
        f"{png / wsq:.1f} : 1 | {rmse:.1f} | {20 * math.log10(255 / rmse):.1f} dB | "
        f"{worst:.1f} dB |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10)
    people = parser.parse_args().people
    print(
        "| sensor | fingers | WSQ bytes (mean) | ratio to raw | ratio to PNG | RMSE | PSNR "
        "| worst PSNR |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, size in SIZES.items():
        figures = [measure(p, pos, size) for p in range(1, people + 1) for pos in range(1, 11)]
        print(_row(name, figures))


if __name__ == "__main__":
    main()
