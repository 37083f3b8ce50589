"""Helpers for the live-server tests: find the binary, start/stop `botrix serve`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PY_ROOT = os.path.dirname(HERE)  # clients/python
REPO_ROOT = os.path.dirname(os.path.dirname(PY_ROOT))  # /work/main
SRC = os.path.join(PY_ROOT, "src")
EXAMPLES = os.path.join(PY_ROOT, "examples")

if SRC not in sys.path:
    sys.path.insert(0, SRC)


def binary_path() -> str:
    """The server binary: $BOTRIX_BINARY, else .build/debug/botrix under the repository root.
    Raises (never skips) with a clear message when it is missing."""
    configured = os.environ.get("BOTRIX_BINARY")
    path = configured or os.path.join(REPO_ROOT, ".build", "debug", "botrix")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        source = "BOTRIX_BINARY" if configured else "the default .build/debug/botrix (set BOTRIX_BINARY to override)"
        raise RuntimeError(
            f"Botrix server binary not found or not executable: {path} (from {source}). "
            "These tests need a live server: build it, or run with BOTRIX_BINARY=/path/to/botrix."
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotrixServer:
    """One `botrix serve` on 127.0.0.1 with a data file in a temporary folder.

    The port is chosen once (a free port) and kept across restarts, so a server can be
    stopped and started again "at the same address" with the same data file.
    """

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or binary_path()
        self.tmp = tempfile.mkdtemp(prefix="botrix-pytest-")
        self.db = os.path.join(self.tmp, "data", "botrix.mdb")
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._starts = 0

    @property
    def url(self) -> str:
        assert self.port is not None
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> str:
        return os.path.join(self.tmp, "server.log")

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVER_", "DB_", "BOTRIX_MASTER", "LMDB_"))}
        env["LOG_LEVEL"] = "warning"
        env["SERVER_ENV"] = "development"
        # Retries wait a short backoff (0.5-1 s), so the tests see it without waiting long.
        env["RETRY_BACKOFF_BASE_SECONDS"] = "1"
        env["RETRY_BACKOFF_MAX_SECONDS"] = "1"
        return env

    def start(self, timeout: float = 20.0) -> "BotrixServer":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        attempts = 1 if self.port is not None else 3
        last = ""
        for _ in range(attempts):
            port = self.port or free_port()
            self._starts += 1
            with open(self.log_path, "ab") as logf:
                logf.write(f"--- start #{self._starts} on port {port}\n".encode())
                logf.flush()
                self.proc = subprocess.Popen(
                    [self.binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", self.db],
                    stdout=logf,
                    stderr=logf,
                    env=self._env(),
                    cwd=self.tmp,  # no stray .env is read
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                # LOG_LEVEL=warning hides the "listening on" line, so readiness is a ping
                if _ping(port):
                    self.port = port
                    return self
                time.sleep(0.05)
            last = self._tail()
            self.stop(timeout=5)
        raise RuntimeError(f"botrix serve did not come up; log tail:\n{last}")

    def _tail(self, n: int = 30) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM and wait (the server drains requests in flight); SIGKILL after timeout."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def create_key(self, name: str = "test", *scopes: str) -> str:
        cmd = [self.binary, "keys", "create", "--db", self.db, "--name", name]
        for s in scopes or ("admin",):
            cmd += ["--scope", s]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=self._env(), cwd=self.tmp)
        m = re.search(r"btx_[A-Za-z0-9_]+", out.stdout + out.stderr)
        if out.returncode != 0 or not m:
            raise RuntimeError(f"keys create failed ({out.returncode}): {out.stdout} {out.stderr}")
        return m.group(0)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _ping(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ping", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


class ServerTestCase(unittest.TestCase):
    """A test class with one fresh server (own data file) for all its tests."""

    server: BotrixServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = BotrixServer().start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.close()

    def run_in_thread(self, target, name: str = "test-worker") -> tuple[threading.Thread, list]:
        """Run ``target()`` in a daemon thread; returns the thread and a list that gets
        ``("ok", result)`` or ``("error", exc)``."""
        box: list = []

        def wrapper():
            try:
                box.append(("ok", target()))
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                box.append(("error", exc))

        t = threading.Thread(target=wrapper, name=name, daemon=True)
        t.start()
        return t, box


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


_counter = iter(range(1, 10**9))
_run = os.urandom(3).hex()


def fake_account(tag: str = "t") -> dict:
    """A made-up account whose email/username are unique within this test run."""
    n = f"{tag}{_run}{next(_counter)}"
    return {
        "email": f"{n}@example.com",
        "username": n[:32],
        "password": "s3cret-pass-" + n[-6:],
        "birthdate": "1990-01-02",
    }
