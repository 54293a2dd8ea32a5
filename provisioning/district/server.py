"""A throwaway or local PostgreSQL cluster: `make district` and the tests start one.

Why our own and not a system service: a technician's laptop or a CI machine has Debian's
postgresql package but no cluster to spare, and the tests need a clean server each run.
PostgreSQL refuses to run as root, so when we are root the server runs as the
unprivileged ``postgres`` user Debian's package creates; it listens only on a unix socket
inside the cluster's folder (no TCP port to collide with or expose), and trusts local
logins because nobody but its owner and root can reach that folder.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from provisioning.district.errors import ClusterError

#: Where Debian's postgresql package puts the server programs.
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"
DATABASE = "jemput"
PORT = 5432
#: Seconds pg_ctl waits for the server to start or stop.
WAIT = 60


def server_binaries() -> Path:
    """The newest installed PostgreSQL's bin folder; ClusterError if none is installed."""
    found = sorted(
        (p for p in DEBIAN_BINARIES.glob("*/bin") if (p / "initdb").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise ClusterError(
            f"no PostgreSQL server under {DEBIAN_BINARIES}: apt-get install -y postgresql"
        )
    return found[-1]


@dataclass
class LocalCluster:
    """A PostgreSQL cluster in ``folder`` (data/, run/ socket, server.log)."""

    folder: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "run"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        """The store's URL, as `jemput-prov district init` and `sync --to` take it."""
        return self.url_of(DATABASE)

    def url_of(self, database: str) -> str:
        """The URL of another database on this cluster (tests make one per test)."""
        return f"postgresql://{SERVER_USER}@/{database}?host={self.socket_dir}&port={PORT}"

    def create_database(self, database: str) -> str:
        """Create ``database`` (a plain name) on the running server; returns its URL."""
        if not database.isidentifier():
            raise ClusterError(f"{database!r} is not a plain database name")
        self._run("createdb", "-h", str(self.socket_dir), "-p", str(PORT), "-U",
                  SERVER_USER, database)  # fmt: skip
        return self.url_of(database)

    def _run(self, program: str, *args: str) -> str:
        command = [str(server_binaries() / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT + 30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClusterError(f"{program} failed to run: {exc}") from exc
        if done.returncode != 0:
            raise ClusterError(
                f"{program} {' '.join(args)} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-800:]}; see {self.log}"
            )
        return done.stdout

    def _own(self, path: Path) -> None:
        """Hand ``path`` to the server user when we are root (it refuses to run as root)."""
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            shutil.chown(path, user.pw_uid, user.pw_gid)

    def _parents_reachable(self) -> None:
        """Let the server user walk down to the cluster, as root, or say what stops it.

        A kit's data folders are private (0700), and so is the ``var/`` a simulated kit made
        first; the cluster beside them needs only the right to pass through.  So a folder
        of ours on the way (below the current folder, owned by us) gets others' execute
        bit alone, which lets the server user through without letting anyone list it;
        anything else on the way is named, with what to do.
        """
        if os.geteuid() != 0:
            return
        here = Path.cwd().resolve()
        for parent in reversed(self.folder.resolve().parents):
            mode = parent.stat().st_mode
            if mode & 0o001:
                continue
            if parent.is_relative_to(here) and parent != here and parent.stat().st_uid == 0:
                parent.chmod(stat.S_IMODE(mode) | 0o001)
                continue
            raise ClusterError(
                f"the {SERVER_USER} user cannot pass through {parent} (mode "
                f"{stat.S_IMODE(mode):o}): run `chmod o+x {parent}`, or put the cluster under "
                "a folder others may pass through, such as /tmp"
            )

    def init(self) -> None:
        """Create the cluster and its database unless it exists."""
        if (self.data / "PG_VERSION").is_file():
            return
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._parents_reachable()
        for path in (self.folder, self.data, self.socket_dir):
            self._own(path)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SERVER_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").is_file()

    def start(self) -> str:
        """Start the server (creating cluster and database if needed); returns its URL."""
        self.init()
        if not self.running():
            if not self.log.exists():
                self.log.touch(mode=0o600)
                self._own_file(self.log)
            options = f"-k {self.socket_dir} -c listen_addresses='' -p {PORT}"
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                      "-w", "-t", str(WAIT), "start")  # fmt: skip
        self._create_database()
        return self.url

    def _own_file(self, path: Path) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            shutil.chown(path, user.pw_uid, user.pw_gid)

    def _create_database(self) -> None:
        listed = self._run(
            "psql", "-h", str(self.socket_dir), "-p", str(PORT), "-U", SERVER_USER, "-d",
            "postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
        )  # fmt: skip
        if listed.strip() != "1":
            self.create_database(DATABASE)

    def stop(self) -> None:
        """Stop the server if it runs (fast shutdown: sessions are cut, data is safe)."""
        if self.running():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", str(WAIT), "stop")


def main() -> None:
    """`python -m provisioning.district.server start|stop FOLDER`, used by `make district`."""
    import sys

    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        print("usage: python -m provisioning.district.server start|stop FOLDER", file=sys.stderr)
        raise SystemExit(2)
    cluster = LocalCluster(Path(sys.argv[2]).resolve())
    try:
        if sys.argv[1] == "start":
            print(cluster.start())
        else:
            cluster.stop()
    except ClusterError as exc:
        print(f"district: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
