"""``python -m hw_sim DEVICE --link PATH``: one serial emulator on its own, for other programs.

The emulator's pty is linked at PATH until SIGINT or SIGTERM, so a vendor tool, a
terminal program or the kit's own driver can open PATH as it would open the real part.
A simulated person (from ``--seed``) rests a finger on the fingerprint sensor's glass and
signs the pad every few seconds; the printers keep what they print in ``--out``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hal.types import FingerPosition, SensorModel
from hw_sim.card_printer_emulator import CardPrinterEmulator
from hw_sim.fingerprint_emulator import FingerprintEmulator
from hw_sim.pico import PicoSim
from hw_sim.receipt_printer_emulator import ReceiptPrinterEmulator
from hw_sim.signature_pad_emulator import SignaturePadEmulator
from hw_sim.timing import Timing
from hw_sim.world import World

#: How often the simulated person signs the pad again, in seconds.
SIGN_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class Part:
    """One emulator the command can run, and how a program should open its port."""

    emulator: type[Any]
    how: str


PARTS: dict[str, Part] = {
    "fingerprint": Part(FingerprintEmulator, "57600 8N1, 0xEF01 packets (password 0)"),
    "signature-pad": Part(SignaturePadEmulator, "19200 8O1, listen only: 5-byte pen frames"),
    "card-printer": Part(CardPrinterEmulator, "115200 8N1, ESC cmd;args CR"),
    "receipt-printer": Part(ReceiptPrinterEmulator, "19200 8N1, ESC/POS"),
    "coprocessor": Part(PicoSim, "115200 8N1, A5 frames (docs/devices/coprocessor.md)"),
}


def _parser() -> argparse.ArgumentParser:
    faults = "\n".join(
        f"  {name:16} {part.how}\n  {'':16} faults: {', '.join(part.emulator.FAULTS)}"
        for name, part in PARTS.items()
    )
    parser = argparse.ArgumentParser(
        prog="python -m hw_sim",
        description="Run one of the kit's serial device emulators on a pty linked at PATH.",
        epilog=f"devices:\n{faults}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("device", choices=PARTS, metavar="DEVICE", help=", ".join(PARTS))
    parser.add_argument("--link", required=True, type=Path, metavar="PATH", help="symlink to make")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated person")
    parser.add_argument(
        "--fault", action="append", default=[], metavar="KIND", help="start with this fault"
    )
    parser.add_argument(
        "--sensor",
        type=SensorModel,
        choices=list(SensorModel),
        default=SensorModel.R307,
        metavar="MODEL",
        help="fingerprint: the sensor's model, r307 or r503",
    )
    parser.add_argument("--hopper", type=int, default=100, help="card-printer: blank cards")
    parser.add_argument("--out", type=Path, help="printers: folder for the printed PNGs")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="answer as fast as the pty allows, not at the line's baud rate and the part's speed",
    )
    return parser


def _until_stopped(stop: threading.Event) -> None:
    stop.wait()


def _start(args: argparse.Namespace) -> tuple[Any, Callable[[threading.Event], None]]:
    """The emulator for ``args.device``, and what it does until the stop event is set."""
    world = World(args.seed)
    person = next(p for p in world.residents if not p.fingers)
    world.subject = person
    link = str(args.link)
    timing = Timing(fast=args.fast)
    if args.device == "fingerprint":
        sensor = FingerprintEmulator(link_path=link, model=args.sensor, timing=timing)
        sensor.place(world.finger_on_glass(FingerPosition.RIGHT_INDEX))
        return sensor, _until_stopped
    if args.device == "signature-pad":
        pad = SignaturePadEmulator(link_path=link, seed=args.seed, timing=timing)

        def sign_repeatedly(stop: threading.Event) -> None:
            while True:
                pad.sign(person.signature)
                if stop.wait(SIGN_EVERY_SECONDS):
                    return

        return pad, sign_repeatedly
    if args.device == "coprocessor":  # the Pico's own firmware, under micropython
        return PicoSim(link_path=link), _until_stopped
    if args.device == "card-printer":
        printer = CardPrinterEmulator(
            link_path=link, hopper=args.hopper, out_dir=args.out, timing=timing
        )
        return printer, _until_stopped
    receipts = ReceiptPrinterEmulator(link_path=link, timing=timing)

    def keep_receipts(stop: threading.Event) -> None:
        _until_stopped(stop)
        if args.out is not None:
            receipts.save_png(args.out)

    return receipts, keep_receipts


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    valid = PARTS[args.device].emulator.FAULTS
    unknown = [kind for kind in args.fault if kind not in valid]
    if unknown:
        print(
            f"{args.device} has no fault {unknown[0]!r}; valid: {', '.join(valid)}", file=sys.stderr
        )
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        emulator, serve = _start(args)
    except OSError as exc:
        print(f"cannot link the pty at {args.link}: {exc}", file=sys.stderr)
        return 1
    with emulator:
        for kind in args.fault:
            emulator.inject(kind)
        print(
            f"{args.device} emulator on {emulator.port}, linked at {args.link}\n"
            f"open it as {PARTS[args.device].how}; Ctrl-C or SIGTERM stops it",
            flush=True,
        )
        serve(stop)
    print(f"{args.device} emulator stopped; {args.link} removed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
