"""``jemput-kit quality face|finger IMAGE``: every quality measure of one image, and the verdict.

For a technician setting up a site's light (is the hall bright enough, is the wall plain)
and for developers tuning the bounds.  Exit status: 0 acceptable, 1 not, 2 the file could
not be read as an image (or OpenCV lacks its cascade files).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capture.prompts import Language, prompt
from capture.quality_errors import QualityError

if TYPE_CHECKING:  # OpenCV loads only when a quality command runs, not for every jemput-kit
    import numpy as np

    from capture.face_quality import FaceQuality
    from capture.finger_quality import FingerQuality

#: Exit status when the image cannot be judged at all.
BAD_INPUT = 2

quality_app = typer.Typer(
    help="Quality measures of a face photo or a finger image (0 acceptable, 1 not, 2 bad input).",
    no_args_is_help=True,
    add_completion=False,
)

ImageArgument = Annotated[Path, typer.Argument(help="A JPEG or PNG file.", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]
LanguageOption = Annotated[Language, typer.Option(help="Language of the prompts.")]


def _read_grey(path: Path) -> np.ndarray:
    """The file as 8-bit grey; a clear message and exit 2 when it is not an image."""
    import cv2
    import numpy as np

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _bad_input(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or image.size == 0:
        raise _bad_input(f"{path}: not a JPEG or PNG image ({len(data)} bytes)")
    return image


def _bad_input(message: str) -> typer.Exit:
    typer.secho(f"jemput-kit quality: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(BAD_INPUT)


def _report(
    kind: str,
    path: Path,
    quality: FaceQuality | FingerQuality,
    as_json: bool,
    language: Language,
) -> None:
    """Print every measure of ``quality`` and exit 0 or 1; ``kind`` is the command's name."""
    problems = [
        (problem.value, prompt(problem.prompt_key, language)) for problem in quality.problems
    ]
    if as_json:
        body = {
            "kind": kind,
            "image": str(path),
            "acceptable": quality.acceptable,
            "measures": quality.scores(),
            "problems": [value for value, _ in problems],
        }
        typer.echo(json.dumps(body, ensure_ascii=False))
    else:
        typer.echo(f"{kind}: {path}")
        for name, value in quality.scores().items():
            typer.echo(f"  {name:<24} {'-' if value is None else value}")
        verdict = {Language.ID: ("DITERIMA", "DITOLAK"), Language.EN: ("ACCEPTABLE", "REJECTED")}
        typer.echo(verdict[language][0] if quality.acceptable else verdict[language][1])
        for value, lines in problems:
            typer.echo(f"  {value}: {' / '.join(lines)}")
    raise typer.Exit(0 if quality.acceptable else 1)


@quality_app.command()
def face(
    ctx: typer.Context,
    image: ImageArgument,
    as_json: JsonOption = False,
    language: LanguageOption = Language.ID,
) -> None:
    """Measure a face photo: one face, head size and place, eyes, sharpness, light, background."""
    from capture.face_quality import assess_face

    try:
        quality = assess_face(_read_grey(image))
    except QualityError as exc:
        raise _bad_input(f"{image}: {exc}") from exc
    _report(ctx.info_name or "", image, quality, as_json, language)


@quality_app.command()
def finger(
    ctx: typer.Context,
    image: ImageArgument,
    as_json: JsonOption = False,
    language: LanguageOption = Language.ID,
) -> None:
    """Measure a finger image (500 ppi): foreground, OCL, LCS, minutiae and the 0..100 score."""
    from capture.finger_quality import assess_finger

    try:
        quality = assess_finger(_read_grey(image))
    except QualityError as exc:
        raise _bad_input(f"{image}: {exc}") from exc
    _report(ctx.info_name or "", image, quality, as_json, language)


def register(app: typer.Typer) -> None:
    """Add ``quality`` to ``app`` (jemput-kit)."""
    app.add_typer(quality_app, name="quality")
