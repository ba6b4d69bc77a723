"""The local stack as real processes, for tests and benchmarks.

moto (SQS+SNS and DynamoDB as two servers), the bootstrap, uvicorn, celery
workers and Flower, each a subprocess with its own log; readiness is waited on
as a condition with a deadline, never a sleep.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# moto in server mode with DynamoDB requests one at a time (core/motoserver.py says why).
MOTO_SERVER = [sys.executable, "-m", "core.motoserver"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.05):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last_exc = exc
        else:
            if value:
                return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc!r})")


class Service:
    """One subprocess with its output in a log file."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Service:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, text: str, *, timeout: float = 60) -> None:
        def seen() -> bool:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.log()[-3000:]}")
            return text in self.log()

        wait_for(seen, timeout=timeout, what=f"{self.name} to log {text!r}")

    def signal_group(self, sig: int) -> None:
        if self.alive():
            os.killpg(self.pid, sig)

    def stop(self, *, timeout: float = 15) -> None:
        if not self.alive():
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.proc.wait(timeout=5)


class Stack:
    """moto + bootstrap, then any number of API, worker and Flower processes."""

    def __init__(self, log_dir: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.sqs_port = free_port()
        self.dynamodb_port = free_port()
        self.env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.sqs_port}",
            "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{self.dynamodb_port}",
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            **(extra_env or {}),
        }
        self.services: list[Service] = []
        self._count: dict[str, int] = {}

    def _name(self, kind: str) -> str:
        self._count[kind] = self._count.get(kind, 0) + 1
        return f"{kind}{self._count[kind]}"

    def spawn(self, kind: str, argv: list[str], env: dict[str, str] | None = None) -> Service:
        service = Service(self._name(kind), argv, env={**self.env, **(env or {})}, log_dir=self.log_dir)
        self.services.append(service.start())
        return service

    def start_moto(self) -> None:
        for port in (self.sqs_port, self.dynamodb_port):
            self.spawn("moto", [*MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)])
        self.bootstrap("--wait")

    def bootstrap(self, *args: str, env: dict[str, str] | None = None) -> None:
        subprocess.run(
            [sys.executable, "-m", "core.bootstrap", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start_api(self, env: dict[str, str] | None = None) -> tuple[Service, str]:
        return self.start_uvicorn("api", "api.main:app", env=env)

    def start_uvicorn(
        self, kind: str, app: str, *, app_dir: Path | None = None, env: dict[str, str] | None = None
    ) -> tuple[Service, str]:
        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
                "--port", str(port), "--no-access-log"]
        if app_dir is not None:
            argv += ["--app-dir", str(app_dir)]
        service = self.spawn(kind, argv, env)
        url = f"http://127.0.0.1:{port}"
        service.wait_log("Application startup complete", timeout=60)
        return service, url

    def start_worker(self, env: dict[str, str] | None = None, *args: str) -> Service:
        name_hint = self._count.get("worker", 0) + 1
        worker = self.spawn(
            "worker",
            [str(BIN / "celery"), "-A", "tasks", "worker", "--loglevel", "INFO",
             "--hostname", f"worker{name_hint}@%h", *args],
            {"REMAP_SIGTERM": "SIGQUIT", **(env or {})},
        )
        worker.wait_log(" ready.", timeout=60)
        return worker

    def start_flower(
        self, env: dict[str, str] | None = None, *args: str, port: int | None = None
    ) -> tuple[Service, str]:
        """``celery -A tasks flower`` on ``port`` (default: a free one) on loopback; returns
        it and its URL."""
        port = port or free_port()
        flower = self.spawn(
            "flower",
            [str(BIN / "celery"), "-A", "tasks", "flower", "--address=127.0.0.1",
             f"--port={port}", *args],
            env,
        )
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if not flower.alive():
                raise RuntimeError(f"{flower.name} exited:\n{flower.log()[-3000:]}")
            with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                conn.sendall(b"GET /healthcheck HTTP/1.0\r\n\r\n")
                return conn.recv(64).startswith(b"HTTP/1.1 200")

        wait_for(healthy, timeout=60, what=f"{flower.name} to answer /healthcheck", every=0.1)
        return flower, url

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()
