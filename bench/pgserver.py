"""A throw-away PostgreSQL server for the tests and the bench: Debian's binaries (`make postgres`), a fresh
cluster in a temporary folder on a free loopback port, trust authentication, stopped and removed afterwards.

As root, `initdb` refuses to run: the cluster then belongs to the `postgres` user and every command runs
through `runuser`. The tests start one server per session; each test makes a database of its own.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binaries() -> Path:
    """The newest installed PostgreSQL's bin folder (`make postgres` installs Debian's package)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make postgres` (Debian's postgresql package)")
    return Path(found[-1]).parent


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server() -> Iterator[str]:
    """`postgresql://postgres@127.0.0.1:PORT` while a fresh cluster runs (trust authentication, loopback)."""
    bin_dir, port = binaries(), free_port()
    root = Path(tempfile.mkdtemp(prefix="copilot-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    run: dict[str, Any] = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                  "-E", "UTF8", "--no-instructions"]), **run)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                                  "-w", "-t", "60", "start"]), **run)
        yield f"postgresql://postgres@127.0.0.1:{port}"
    except subprocess.CalledProcessError as exc:
        server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{server_log}") from exc
    finally:
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: str, name: str) -> str:
    """A new empty database on the server; its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
