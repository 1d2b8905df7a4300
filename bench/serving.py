"""`copilot serve` in a child process on a free loopback port: its cold start to ready, and its memory."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from copilot.errors import CopilotError

_SERVE = "from copilot.cli import main; main()"
_OWN_ENV = ("COPILOT_KNOWLEDGE_DIR", "COPILOT_INDEX_DIR", "COPILOT_DATA_DIR", "COPILOT_CHROMA_URL",
            "COPILOT_LLM_BASE_URL", "COPILOT_LLM_MODEL", "COPILOT_LLM_API_KEY", "COPILOT_API_KEYS",
            "COPILOT_API_KEYS_FILE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process in MB, from /proc/<pid>/status (VmRSS, VmHWM)."""
    values = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines()
    except OSError as exc:
        raise CopilotError(f"cannot read the memory of process {pid}: {exc.strerror}") from exc
    for line in lines:
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return round(values.get("VmRSS", 0.0), 1), round(values.get("VmHWM", 0.0), 1)


class ChildProcess:
    """A server in a child process, logging to a file, polled on `ready_path` until it answers 200."""

    def __init__(self, workdir: Path, name: str, ready_path: str, timeout: float = 180.0) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready_path = ready_path
        self.timeout = timeout
        self.cold_start_s = 0.0
        self.log = workdir / f"{name}-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise CopilotError(f"the bench's {self.log.stem} is not running")
        return self._process.pid

    def start(self, command: list[str], env: dict[str, str] | None = None) -> None:
        """Spawn `command` and wait until it is ready; `cold_start_s` is the time from spawn to ready."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        self.cold_start_s = round(time.perf_counter() - started, 2)

    def _wait_ready(self, started: float) -> None:
        name = self.log.stem
        while time.perf_counter() - started < self.timeout:
            if self._process is not None and self._process.poll() is not None:
                raise CopilotError(f"{name} exited with code {self._process.returncode}: {self._tail()}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise CopilotError(f"{name} was not ready after {self.timeout:.0f} s: {self._tail()}")

    def _tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-1500:] if self.log.exists() else ""

    def memory_mb(self) -> tuple[float, float]:
        return memory_mb(self.pid)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class ChromaServer(ChildProcess):
    """`chroma run` (the command installed with chromadb) over a data folder, on a free loopback port."""

    def __init__(self, workdir: Path, data: Path) -> None:
        super().__init__(workdir, "chroma", "/api/v2/heartbeat", timeout=120.0)
        self.data = data

    def __enter__(self) -> ChromaServer:
        binary = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
        if binary is None:
            raise CopilotError("the `chroma` command is not installed next to this Python "
                               "(pip install chromadb)")
        self.start([binary, "run", "--path", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)])
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServedCopilot(ChildProcess):
    """`copilot serve` (the same command: uvicorn, one process) with the given settings in its environment."""

    def __init__(self, workdir: Path, env: dict[str, str], timeout: float = 180.0) -> None:
        super().__init__(workdir, "serve", "/readyz", timeout)
        self._env = {key: value for key, value in os.environ.items() if key not in _OWN_ENV}
        self._env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                          "PYTHONUNBUFFERED": "1", **env})

    def __enter__(self) -> ServedCopilot:
        self.start([sys.executable, "-c", _SERVE, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                   self._env)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
