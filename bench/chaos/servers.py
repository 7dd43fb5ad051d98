"""Private Redis and PostgreSQL servers on free ports, which a scenario may kill and restart."""

from __future__ import annotations

import contextlib
import glob
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stack import free_port


def _wait_port(port: int, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s}s")


class PrivateRedis:
    """``redis-server`` on a free port; ``aof`` keeps its data across a kill (appendonly)."""

    def __init__(self, folder: Path, *, aof: bool = False, also: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.aof = aof
        self.also = also  # addresses to listen on besides 127.0.0.1 (a namespace's link)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """The URL of its database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (empty, or from its AOF)."""
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed")
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if self.aof else []
        command = [executable, "--port", str(self.port), "--bind", "127.0.0.1", *self.also]
        # Protected mode refuses a password-less default user beyond loopback; ``also`` is a
        # namespace's link on this machine, reached by the scenario's own processes only.
        command += ["--save", "", *(("--protected-mode", "no") if self.also else ())]
        command += persistence or ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [*command, "--dir", str(self.folder)],
            stdout=open(self.folder / "redis.log", "ab"),  # noqa: SIM115 - lives with it
            stderr=subprocess.STDOUT,
        )
        _wait_port(self.port)

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` (SIGSTOP, SIGCONT: a server frozen, then thawed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class PrivatePostgres:
    """A PostgreSQL cluster made with ``initdb`` in ``folder``, on a free port, trust auth.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder  # its log
        # The cluster's own folder, where its owner can reach it (not under a private tmp).
        self.home = Path(tempfile.mkdtemp(prefix="chaos-postgres-"))
        self.data = self.home / "pgdata"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.bin = _pg_bin()
        self.also: tuple[str, ...] = ()  # addresses to listen on besides 127.0.0.1

    @staticmethod
    def _as_owner() -> dict[str, Any]:
        """Popen's arguments to run a command as the cluster's owner. Not through ``runuser``:
        it supervises its child and stops itself when the child is stopped (job control), so
        after a SIGSTOP of the postmaster (``postgres-frozen``) waiting on it could hang."""
        if os.geteuid() != 0:
            return {}
        return {"user": "postgres", "group": "postgres", "extra_groups": []}

    def init(self) -> None:
        """``initdb`` a new cluster."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.home, "postgres")
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            **self._as_owner(),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        """Start the postmaster (after a kill: crash recovery from its WAL)."""
        command = [
            str(self.bin / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.home),
            "-c",
            f"listen_addresses={','.join(('127.0.0.1', *self.also))}",
            "-c",
            "max_connections=300",
        ]
        self.proc = subprocess.Popen(
            command,
            **self._as_owner(),
            stdout=open(self.folder / "postgres.log", "ab"),  # noqa: SIM115 - lives with it
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_port(self.port)
        for _ in range(200):  # the port opens before recovery ends
            probe = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not become ready")

    def listen_also(self, addresses: tuple[str, ...]) -> None:
        """Listen on ``addresses`` besides 127.0.0.1 from now on, and trust clients of their /30
        (a namespace's link): a fast shutdown (sessions ended, a checkpoint) and a start."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait()
        with (self.data / "pg_hba.conf").open("a") as hba:
            for address in addresses:
                link = ipaddress.ip_network(f"{address}/30", strict=False)
                hba.write(f"host all all {link} trust\n")
        self.also = addresses
        self.start()

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the postmaster and each of its processes: every backend is a
        session leader of its own, so a process group would not reach them."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for pid in descendants(self.proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends (a crash, as a power cut leaves the WAL)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop_immediate(self) -> None:
        """``pg_ctl stop -m immediate``: the postmaster tells its backends to quit at once and
        exits without a checkpoint (crash recovery at the next start), its clients' connections
        closed rather than left hanging."""
        if self.proc is None or self.proc.poll() is not None:
            return
        command = [str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate"]
        subprocess.run(command, **self._as_owner(), check=True, stdout=subprocess.DEVNULL)
        self.proc.wait()

    def stop(self) -> None:
        """Stop for good and remove the cluster."""
        self.kill()
        shutil.rmtree(self.home, ignore_errors=True)

    def url(self, database: str) -> str:
        """A SQLAlchemy URL of one database of the cluster."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """An asyncpg DSN of one database of the cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc: each process's parent)."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(Path(stat).parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("initdb not found under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent
