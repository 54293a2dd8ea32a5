"""Every kit.toml a technician can get wrong is one line naming what to fix, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from firmware.cli import app
from firmware.config import ConfigError, load_config, prepare_data_dir


def run(*args: object):
    return CliRunner().invoke(app, ["run", *map(str, args)])


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "kit.toml"
    path.write_bytes(b'[kit]\nbackend = "sim"\n# Kab. Kediri \xe9t\xe9\n')
    with pytest.raises(ConfigError, match=r"line 3: byte \d+ is not UTF-8"):
        load_config(path)
    result = run("--config", path)
    assert result.exit_code == 2 and "is not UTF-8" in result.output
    assert ("Traceback" not in result.output and result.exception is None) or (
        isinstance(result.exception, SystemExit)
    )


def test_a_folder_given_as_the_file(tmp_path: Path) -> None:
    result = run("--config", tmp_path)
    assert result.exit_code == 2, result.output
    assert "is a folder, not a configuration file" in result.output


@pytest.mark.parametrize("how", ["under a file", "is a file"])
def test_a_data_folder_that_cannot_be_made(tmp_path: Path, how: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    data_dir = blocker / "kit" if how == "under a file" else blocker
    config = tmp_path / "kit.toml"
    config.write_text(f'[kit]\ndata_dir = "{data_dir}"\n', encoding="utf-8")
    result = run("--config", config)
    assert result.exit_code == 2, result.output
    assert f"{config}: [kit] data_dir {data_dir}" in result.output
    assert "Traceback" not in result.output
    from_option = run("--data-dir", data_dir)
    assert from_option.exit_code == 2 and f"--data-dir {data_dir}" in from_option.output


def test_a_new_data_folder_is_made_private(tmp_path: Path) -> None:
    config = load_config(None, data_dir=tmp_path / "new" / "kit")
    folder = prepare_data_dir(config)
    assert folder.is_dir() and folder.stat().st_mode & 0o777 == 0o700
