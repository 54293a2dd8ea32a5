"""`jemput-prov release keygen|build`: what goes into a bundle, and what is refused before.

A wheel is unpacked as `pip install --target` lays it out, a tree is copied as it is, and a
bundle that builds is one the authority's kits accept; a bundle no kit would take (another
authority's key, bytes changed after the build) is named by the tool before it sends it.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kitlink.release import (
    DamagedBundle,
    MalformedBundle,
    UntrustedRelease,
    Version,
    open_bundle,
)
from provisioning import release as releasing
from provisioning import update as updating
from provisioning.cli import app
from storage.keys import Authority
from tests.provisioning.releases import NOW, pico_firmware, software


def wheel(tmp: Path, *entries: str) -> Path:
    path = tmp / "jemput_probe-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name in entries:
            archive.writestr(name, f"# {name}\n")
    return path


def test_a_wheel_is_unpacked_as_pip_install_target_lays_it_out(tmp_path: Path) -> None:
    built = wheel(
        tmp_path,
        "wheel_probe/__init__.py",
        "wheel_probe-1.0.0.dist-info/METADATA",
        "wheel_probe-1.0.0.data/platlib/_probe.so",
        "wheel_probe-1.0.0.data/scripts/wheel-probe",
    )
    sources = releasing.software_sources([built, software(tmp_path, "1.0.0")])
    assert [source.path for source in sources] == [
        "lib/_probe.so",
        "lib/jemput_probe/__init__.py",
        "lib/jemput_probe/data.bin",
        "lib/wheel_probe-1.0.0.dist-info/METADATA",
        "lib/wheel_probe/__init__.py",
    ]


def test_a_package_given_twice_or_a_link_in_a_tree_is_refused(tmp_path: Path) -> None:
    tree = software(tmp_path, "1.0.0")
    with pytest.raises(releasing.ReleaseBuildError, match="comes from both"):
        releasing.software_sources([tree, wheel(tmp_path, "jemput_probe/__init__.py")])
    (tree / "jemput_probe" / "link.py").symlink_to(tree / "jemput_probe" / "__init__.py")
    with pytest.raises(releasing.ReleaseBuildError, match="is a symbolic link"):
        releasing.software_sources([tree])


def test_a_path_that_leaves_the_slot_is_refused_at_build(tmp_path: Path) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil")
    releasing.keygen(tmp_path / "key", authority, name="builder", years=2, now=NOW)
    escaping = wheel(tmp_path, "../../etc/passwd")
    with pytest.raises(MalformedBundle, match="is not a relative path under lib/"):
        releasing.build(
            tmp_path / "out.bundle",
            releasing.load_folder(tmp_path / "key"),
            version=Version.parse("1.0.0"),
            software=[escaping],
            pico=None,
            now=NOW,
        )


def test_the_commands_make_a_key_and_a_bundle_the_tool_then_checks(tmp_path: Path) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil")
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "release",
            "keygen",
            str(tmp_path / "key"),
            "--authority",
            str(tmp_path / "authority"),
            "--name",
            "build PC",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "release key 'build PC' made" in made.output
    assert (tmp_path / "key" / "release.key").stat().st_mode & 0o777 == 0o600
    out = tmp_path / "jemput-1.2.0.bundle"
    built = runner.invoke(
        app,
        [
            "release",
            "build",
            "--key",
            str(tmp_path / "key"),
            "--version",
            "1.2.0",
            "--software",
            str(software(tmp_path, "1.2.0")),
            "--pico",
            str(pico_firmware(tmp_path, "1.2.0")),
            "--out",
            str(out),
        ],
    )
    assert built.exit_code == 0, built.output
    assert "release 1.2.0 by 'build PC'" in built.output and "Pico firmware 1.2.0" in built.output
    assert out.stat().st_mode & 0o777 == 0o600
    release = updating.check(out, authority, now=datetime.now(UTC)).release
    assert release.pico is not None and "start.py" in {entry.path for entry in release.pico.files}

    bad = runner.invoke(
        app,
        [
            "release",
            "build",
            "--key",
            str(tmp_path / "key"),
            "--version",
            "1.2",
            "--software",
            str(tmp_path),
            "--out",
            str(out),
        ],
    )
    assert bad.exit_code == 2 and "MAJOR.MINOR.PATCH" in bad.output

    data = bytearray(out.read_bytes())
    data[-1] ^= 0x01
    out.write_bytes(bytes(data))
    with pytest.raises(DamagedBundle, match="does not match the SHA-256"):
        updating.check(out, authority, now=datetime.now(UTC))
    stranger = Authority.init(tmp_path / "stranger", name="stranger")
    with pytest.raises(UntrustedRelease, match="not by authority 'stranger'"):
        open_bundle(out, stranger.public, at=datetime.now(UTC))
