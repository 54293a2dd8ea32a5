"""``jemput-kit quality face|finger IMAGE``: every measure, the verdict, exit 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data
from typer.testing import CliRunner

from firmware.cli import app
from hw_sim.fingerprints import IMAGE_SIZE, ridge_image
from hw_sim.fingers import FingerCondition
from hw_sim.portraits import Scene, portrait_jpeg

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    def finger_png(condition: FingerCondition) -> bytes:
        pixels = np.frombuffer(ridge_image(2, 3, 0, condition), np.uint8)
        return cv2.imencode(".png", pixels.reshape(IMAGE_SIZE[1], IMAGE_SIZE[0]))[1].tobytes()

    astronaut = cv2.cvtColor(data.astronaut()[0:330, 90:340], cv2.COLOR_RGB2BGR)
    made = {
        "portrait.jpg": portrait_jpeg(5),
        "dark.jpg": portrait_jpeg(5, scene=Scene.DARK_HALL),
        "astronaut.png": cv2.imencode(".png", astronaut)[1].tobytes(),
        "finger.png": finger_png(FingerCondition.OK),
        "partial.png": finger_png(FingerCondition.PARTIAL),
        "notes.jpg": b"these are not pixels",
    }
    for name, content in made.items():
        (tmp_path / name).write_bytes(content)
    return {name: tmp_path / name for name in made} | {"missing": tmp_path / "gone.png"}


def test_an_acceptable_face_prints_every_measure_and_exits_0(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["quality", "face", str(files["astronaut.png"])])
    assert result.exit_code == 0, result.output
    for measure in ("faces", "head_width", "eyes", "sharpness", "background_edges"):
        assert measure in result.output
    assert result.output.rstrip().endswith("DITERIMA")


def test_a_dark_photo_exits_1_with_its_prompt(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["quality", "face", str(files["dark.jpg"])])
    assert result.exit_code == 1, result.output
    assert "DITOLAK" in result.output
    assert "too_dark: Terlalu gelap / Nyalakan lampu" in result.output
    english = runner.invoke(app, ["quality", "face", "--language", "en", str(files["dark.jpg"])])
    assert "too_dark: Too dark / Turn on a light" in english.output


def test_json_holds_the_measures_and_the_problems(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["quality", "finger", "--json", str(files["partial.png"])])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["kind"] == "finger" and body["acceptable"] is False
    assert "partial" in body["problems"]
    assert set(body["measures"]) >= {"score", "orientation_certainty", "clarity", "minutiae"}
    good = json.loads(
        runner.invoke(app, ["quality", "finger", "--json", str(files["finger.png"])]).output
    )
    assert good["acceptable"] is True and good["measures"]["score"] > body["measures"]["score"]


def test_a_simulated_portrait_passes(files: dict[str, Path]) -> None:
    assert runner.invoke(app, ["quality", "face", str(files["portrait.jpg"])]).exit_code == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [("notes.jpg", "not a JPEG or PNG image (20 bytes)"), ("missing", "cannot read the file")],
)
@pytest.mark.parametrize("kind", ["face", "finger"])
def test_a_file_that_is_no_image_exits_2_without_a_traceback(
    files: dict[str, Path], kind: str, name: str, message: str
) -> None:
    result = runner.invoke(app, ["quality", kind, str(files[name])])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
