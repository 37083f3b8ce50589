"""SIGTERM/SIGINT to the example worker running as a separate process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

from _support import EXAMPLES, SRC, ServerTestCase, binary_path, wait_for

from botrix_client import Client

RECORDED = re.compile(r"recorded account (\S+) \(id (\d+)\) for job (\S+)")


def setUpModule() -> None:
    binary_path()  # fail (not skip) with a clear message when the binary is missing


class WorkerProcess:
    """examples/fake_worker.py as a subprocess, its stderr collected line by line."""

    def __init__(self, url: str, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=SRC, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(EXAMPLES, "fake_worker.py"), "--url", url, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def recorded(self) -> list[tuple[str, int, str]]:
        return [(m.group(1), int(m.group(2)), m.group(3)) for m in RECORDED.finditer(self.output())]

    def wait(self, timeout: float) -> int:
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(5)
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


class Signals(ServerTestCase):
    def start_worker(self, *args: str) -> WorkerProcess:
        w = WorkerProcess(self.server.url, *args)
        self.addCleanup(w.kill)
        return w

    def test_sigterm_mid_job_exits_cleanly_and_keeps_every_account(self) -> None:
        client = Client(self.server.url, timeout=10)
        job_id = client.create_job(20)["job_id"]
        w = self.start_worker("--worker-id", "w-sigterm", "--delay", "0.3", "--lease-seconds", "30", "--wait-seconds", "2")
        wait_for(lambda: len(w.recorded()) >= 2, 20, what="two recorded accounts\n" + w.output())
        t0 = time.monotonic()
        w.proc.send_signal(signal.SIGTERM)
        try:
            rc = w.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("worker did not exit within 20 s of SIGTERM:\n" + w.output())
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, w.output())
        self.assertLess(elapsed, 10, f"exit took {elapsed:.1f}s")

        logged = {email for email, _, jid in w.recorded() if jid == job_id}
        on_server = {a["email"] for a in client.list_accounts(job_id=job_id)}
        self.assertGreaterEqual(len(logged), 2)
        self.assertTrue(logged <= on_server, f"logged as recorded but missing: {logged - on_server}")
        self.assertEqual(logged, on_server, "the server has accounts the worker never reported")

        job = client.get_job(job_id)
        self.assertEqual(job["status"], "pending", "the unfinished job should be released")
        self.assertEqual(job["progress"], len(on_server))
        self.assertIn("released", w.output())
        types = [e["type"] for e in client.job_events(job_id)["data"]]
        self.assertIn("JobReleased", types)
        self.assertNotIn("JobFailed", types)
        client.cancel(job_id)  # leave the queue empty

    def test_sigint_while_idle_exits_promptly(self) -> None:
        w = self.start_worker("--worker-id", "w-idle", "--wait-seconds", "2")
        wait_for(lambda: "fake worker w-idle" in w.output(), 15, what="worker start\n" + w.output())
        time.sleep(0.5)  # now in a long-poll claim
        t0 = time.monotonic()
        w.proc.send_signal(signal.SIGINT)
        try:
            rc = w.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("idle worker did not exit within 15 s of SIGINT:\n" + w.output())
        self.assertEqual(rc, 0, w.output())
        self.assertLess(time.monotonic() - t0, 2 + 5)
        self.assertNotIn("Traceback", w.output())
