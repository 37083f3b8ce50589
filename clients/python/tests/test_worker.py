"""Worker against a live server: full flow, server restart, lost answers, cancel."""

from __future__ import annotations

import http.client
import http.server
import logging
import threading
import time
import unittest
import urllib.parse

from _support import ServerTestCase, binary_path, fake_account

from botrix_client import Client, JobCancelled, JobContext, JobLost, Worker


def setUpModule() -> None:
    binary_path()  # fail (not skip) with a clear message when the binary is missing
    logging.getLogger("botrix_client").setLevel(logging.ERROR)


def job_events(client: Client, job_id: str) -> list[str]:
    return [e["type"] for e in client.job_events(job_id, limit=1000)["data"]]


class FullFlow(ServerTestCase):
    def test_worker_records_three_accounts_and_completes(self) -> None:
        client = Client(self.server.url, timeout=10)
        job_id = client.create_job(3, priority="high")["job_id"]
        made = [fake_account("flow") for _ in range(3)]
        seen: list[JobContext] = []

        def handler(ctx: JobContext) -> None:
            seen.append(ctx)
            self.assertEqual(ctx.remaining, 3)
            for acct in made:
                ctx.record_account(**acct)
            ctx.progress(successful=3, message="done")

        worker = Worker(self.server.url, "w-flow", handler, lease_seconds=30, wait_seconds=2, handle_signals=False)
        t, box = self.run_in_thread(lambda: worker.run(max_jobs=1))
        t.join(30)
        self.assertFalse(t.is_alive(), "worker did not finish within 30 s")
        self.assertEqual(box, [("ok", 1)])
        self.assertEqual(seen[0].job_id, job_id)

        job = client.get_job(job_id)
        self.assertEqual(job["status"], "completed")
        self.assertEqual(job["progress"], 3)
        self.assertEqual(job["successful"], 3)
        page = client.list_accounts_page(job_id=job_id, limit=100)
        self.assertEqual(page["pagination"]["total"], 3)
        self.assertEqual(sorted(a["email"] for a in page["data"]), sorted(a["email"] for a in made))
        self.assertEqual(job_events(client, job_id).count("JobCompleted"), 1)

    def test_handler_exception_fails_with_retry(self) -> None:
        client = Client(self.server.url, timeout=10)
        job_id = client.create_job(1, priority=9)["job_id"]

        def handler(ctx: JobContext) -> None:
            raise RuntimeError("fake failure")

        worker = Worker(self.server.url, "w-err", handler, lease_seconds=30, wait_seconds=2, handle_signals=False)
        with self.assertLogs("botrix_client", level="ERROR") as logs:
            t, box = self.run_in_thread(lambda: worker.run(max_jobs=1))
            t.join(30)
        self.assertTrue(any("handler failed" in m for m in logs.output))
        self.assertFalse(t.is_alive())
        job = client.get_job(job_id)
        self.assertEqual(job["status"], "pending")  # back in the queue for another try
        self.assertIn("fake failure", job["error_message"])
        client.cancel(job_id)  # keep the queue clean for the other tests


class ServerRestart(ServerTestCase):
    def test_server_restart_between_two_records(self) -> None:
        client = Client(self.server.url, timeout=10)
        job_id = client.create_job(3)["job_id"]
        made = [fake_account("rst") for _ in range(3)]
        first_recorded = threading.Event()
        server_down = threading.Event()
        seen: list[JobContext] = []

        def handler(ctx: JobContext) -> None:
            seen.append(ctx)
            ctx.record_account(**made[0])
            first_recorded.set()
            if not server_down.wait(30):
                raise RuntimeError("test: server was not stopped")
            # the server is down now: this call keeps retrying until it is back
            ctx.record_account(**made[1])
            ctx.record_account(**made[2])

        worker = Worker(self.server.url, "w-restart", handler, lease_seconds=30, wait_seconds=2, handle_signals=False)
        with self.assertLogs("botrix_client", level="INFO") as logs:
            t, box = self.run_in_thread(lambda: worker.run(max_jobs=1))
            self.assertTrue(first_recorded.wait(20), "first account was not recorded")
            self.server.stop()
            server_down.set()
            time.sleep(1.5)  # the worker meets a closed port for a while
            self.server.start()  # same port, same data file
            t.join(60)
        retries = [m for m in logs.output if "/accounts" in m and "cannot reach" in m]
        self.assertTrue(retries, "record_account never met the stopped server")
        self.assertFalse(t.is_alive(), "worker did not finish within 60 s of the restart")
        self.assertEqual(box, [("ok", 1)])

        ctx = seen[0]
        accounts = list(client.list_accounts(job_id=job_id))
        emails = [a["email"] for a in accounts]
        self.assertEqual(len(emails), len(set(emails)), f"an account was recorded twice: {emails}")
        recorded = {a["email"] for a in ctx.recorded}
        self.assertTrue(recorded <= set(emails), "an account the worker recorded is missing")
        job = client.get_job(job_id)
        if not ctx.cancelled:  # same token still valid: the worker went on and completed
            self.assertEqual(job["status"], "completed")
            self.assertEqual(sorted(emails), sorted(a["email"] for a in made))
        else:  # the other allowed outcome: a 409 after the restart, job dropped cleanly
            self.assertTrue(ctx.lost)
            self.assertFalse(job["status"] == "running" and job["worker_id"] == "w-restart")

    def test_lost_answer_is_replayed_not_recorded_twice(self) -> None:
        """A proxy forwards the first record_account and drops its answer (as a crash
        after commit would): the retry with the same Idempotency-Key must replay it."""
        upstream = urllib.parse.urlparse(self.server.url)
        dropped: list[str] = []

        class Proxy(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if self.path.endswith("/accounts") and self.command == "POST" and not dropped:
                    dropped.append(self.headers.get("Idempotency-Key"))
                    self.close_connection = True
                    return  # committed upstream, answer lost
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

            do_GET = do_POST = _forward

            def log_message(self, *args) -> None:
                pass

        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        self.addCleanup(proxy.server_close)
        self.addCleanup(proxy.shutdown)
        url = f"http://127.0.0.1:{proxy.server_address[1]}"

        client = Client(self.server.url, timeout=10)
        job_id = client.create_job(2, priority=10)["job_id"]
        made = [fake_account("lost") for _ in range(2)]
        seen: list[JobContext] = []

        def handler(ctx: JobContext) -> None:
            seen.append(ctx)
            for acct in made:
                ctx.record_account(**acct)

        worker = Worker(url, "w-lost", handler, lease_seconds=30, wait_seconds=2, handle_signals=False)
        worker.client.backoff_base = 0.05
        t, box = self.run_in_thread(lambda: worker.run(max_jobs=1))
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertEqual(box, [("ok", 1)])
        self.assertEqual(len(dropped), 1, "the proxy did not drop an answer")
        emails = sorted(a["email"] for a in client.list_accounts(job_id=job_id))
        self.assertEqual(emails, sorted(a["email"] for a in made))
        self.assertEqual(len(seen[0].recorded), 2)
        self.assertEqual(client.get_job(job_id)["status"], "completed")


class Cancel(ServerTestCase):
    def test_cancel_mid_work_stops_worker_via_heartbeat(self) -> None:
        client = Client(self.server.url, timeout=10)
        job_id = client.create_job(5)["job_id"]
        recorded_one = threading.Event()
        seen: list[JobContext] = []
        stopped_at: list[float] = []

        def handler(ctx: JobContext) -> None:
            seen.append(ctx)
            ctx.record_account(**fake_account("cxl"))
            recorded_one.set()
            try:
                ctx.wait(20)  # only the heartbeat can cut this short
            finally:
                stopped_at.append(time.monotonic())
            ctx.record_account(**fake_account("cxl"))  # not reached

        # lease 3 s -> a heartbeat every second
        worker = Worker(self.server.url, "w-cancel", handler, lease_seconds=3, wait_seconds=2, handle_signals=False)
        t, box = self.run_in_thread(lambda: worker.run(max_jobs=1))
        self.assertTrue(recorded_one.wait(20))
        cancelled_at = time.monotonic()
        self.assertEqual(client.cancel(job_id, reason="operator says stop")["status"], "cancelled")
        t.join(15)
        self.assertFalse(t.is_alive(), "worker did not stop within 15 s of the cancel")
        self.assertEqual(box, [("ok", 1)])

        ctx = seen[0]
        self.assertTrue(ctx.cancelled)
        self.assertFalse(ctx.lost)
        self.assertIn("heartbeat", ctx.stop_reason)
        self.assertLess(stopped_at[0] - cancelled_at, 5.0, "the heartbeat did not stop the handler promptly")
        with self.assertRaises(JobCancelled):
            ctx.record_account(**fake_account("cxl"))
        job = client.get_job(job_id)
        self.assertEqual(job["status"], "cancelled")
        self.assertEqual(len(list(client.list_accounts(job_id=job_id))), 1)
        events = job_events(client, job_id)
        after = events[events.index("JobCancelled") + 1 :]
        self.assertEqual(after, [], f"the worker acted after the cancel: {after}")

    def test_conflict_during_record_drops_job(self) -> None:
        """The cancel lands between heartbeats: the next report gets 409 and the job is
        dropped without further calls."""
        client = Client(self.server.url, timeout=10)
        job_id = client.create_job(3)["job_id"]
        seen: list[JobContext] = []
        raised: list[BaseException] = []

        def handler(ctx: JobContext) -> None:
            seen.append(ctx)
            ctx.record_account(**fake_account("c409"))
            client.cancel(job_id)  # long lease: no heartbeat before the next call
            try:
                ctx.record_account(**fake_account("c409"))
            except JobCancelled as exc:
                raised.append(exc)
                raise

        worker = Worker(self.server.url, "w-409", handler, lease_seconds=60, wait_seconds=2, handle_signals=False)
        t, box = self.run_in_thread(lambda: worker.run(max_jobs=1))
        t.join(20)
        self.assertFalse(t.is_alive())
        self.assertEqual(box, [("ok", 1)])
        self.assertEqual(len(raised), 1)
        self.assertNotIsInstance(raised[0], JobLost)  # the 409 said "cancelled"
        self.assertTrue(seen[0].cancelled)
        self.assertEqual(client.get_job(job_id)["status"], "cancelled")
        self.assertEqual(len(list(client.list_accounts(job_id=job_id))), 1)


if __name__ == "__main__":
    unittest.main()
