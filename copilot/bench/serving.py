"""`copilot serve` in a child process on a free loopback port: its cold start to ready, and its memory."""

from __future__ import annotations

import os
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


class ServedCopilot:
    """Starts `copilot serve` (the same command, uvicorn, one process) with the given settings and waits for
    `/readyz`; `cold_start_s` is the time from spawning the process to the first ready answer."""

    def __init__(self, workdir: Path, env: dict[str, str], timeout: float = 180.0) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timeout = timeout
        self.cold_start_s = 0.0
        self._env = {key: value for key, value in os.environ.items() if key not in _OWN_ENV}
        self._env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                          "PYTHONUNBUFFERED": "1", **env})
        self._process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"serve-{self.port}.log"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise CopilotError("the bench server is not running")
        return self._process.pid

    def __enter__(self) -> ServedCopilot:
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-c", _SERVE, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        started = time.perf_counter()
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self._env)
        try:
            self._wait_ready(started)
        except BaseException:
            self.__exit__()
            raise
        self.cold_start_s = round(time.perf_counter() - started, 2)
        return self

    def _wait_ready(self, started: float) -> None:
        while time.perf_counter() - started < self.timeout:
            if self._process is not None and self._process.poll() is not None:
                raise CopilotError(f"copilot serve exited with code {self._process.returncode}: {self._tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise CopilotError(f"copilot serve was not ready after {self.timeout:.0f} s: {self._tail()}")

    def _tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-1500:] if self.log.exists() else ""

    def memory_mb(self) -> tuple[float, float]:
        return memory_mb(self.pid)

    def __exit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
