"""A throwaway software TPM for tests: Debian's ``swtpm`` in socket mode, on free ports.

Why a real swtpm and not a mock: the TPM backend's whole claim is that the key is made by
and stays in a TPM, and that its blob opens only on that TPM; only a TPM can show that.
Each `SoftwareTpm` has its own state folder (its seeds: a second one is another chip) and
can be stopped and started again on the same state, as a kit reboots.  A machine without
swtpm fails the test with the package to install: never a skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

START_DEADLINE_S = 10.0
STOP_DEADLINE_S = 5.0
PORT_TRIES = 5


class SwtpmMissing(RuntimeError):
    """swtpm is not installed on this machine."""


def _free_port_pair() -> int:
    """A port P with P and P+1 free on loopback (the swtpm TCTI's command and control ports)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise OSError("no two consecutive free loopback ports for swtpm")


class SoftwareTpm:
    """One swtpm process; `tcti` is the string `storage.tpm.Tpm` takes."""

    def __init__(self, state_dir: Path) -> None:
        if shutil.which("swtpm") is None:
            raise SwtpmMissing("swtpm is not installed: `apt-get install swtpm swtpm-tools`")
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def tcti(self) -> str:
        return f"swtpm:host=127.0.0.1,port={self.port}"

    def start(self) -> SoftwareTpm:
        """Start swtpm on fresh ports (retrying if another process took them first)."""
        problems = []
        for _ in range(PORT_TRIES):
            self.port = _free_port_pair()
            process = subprocess.Popen(
                [
                    "swtpm",
                    "socket",
                    "--tpm2",
                    "--server",
                    f"type=tcp,port={self.port},bindaddr=127.0.0.1",
                    "--ctrl",
                    f"type=tcp,port={self.port + 1},bindaddr=127.0.0.1",
                    "--tpmstate",
                    f"dir={self.state_dir}",
                    "--flags",
                    "not-need-init,startup-clear",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_listening(process):
                self._process = process
                return self
            process.kill()
            _, stderr = process.communicate(timeout=STOP_DEADLINE_S)
            problems.append(stderr.decode(errors="replace").strip())
        raise OSError(f"swtpm did not start after {PORT_TRIES} tries: {problems}")

    def _wait_listening(self, process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port + 1), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Stop swtpm (its state folder stays, so `start` again is the same chip); safe twice."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_DEADLINE_S)
        if process.stderr is not None:
            process.stderr.close()

    def __enter__(self) -> SoftwareTpm:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
