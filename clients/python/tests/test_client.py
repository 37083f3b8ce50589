"""Client: operator calls, worker calls, errors, idempotency and retries."""

from __future__ import annotations

import http.server
import json
import threading
import time
import unittest

from _support import BotrixServer, ServerTestCase, binary_path, fake_account, free_port

import botrix_client
from botrix_client import (
    Client,
    Conflict,
    NotFound,
    PreconditionFailed,
    TransportError,
    Unauthorized,
    Unavailable,
    ValidationError,
)


def setUpModule() -> None:
    binary_path()  # fail (not skip) with a clear message when the binary is missing


class OperatorAndWorkerCalls(ServerTestCase):
    def setUp(self) -> None:
        self.client = Client(self.server.url, timeout=10)

    def test_create_get_list_stats(self) -> None:
        ids = [self.client.create_job(1, priority="low")["job_id"] for _ in range(5)]
        job = self.client.get_job(ids[0])
        self.assertEqual(job["id"], ids[0])
        self.assertEqual(job["status"], "pending")
        self.assertEqual(job["priority"], 0)
        # page size 2 forces the iterator through several cursors
        listed = [j["id"] for j in self.client.list_jobs(page_size=2)]
        self.assertEqual(len(listed), len(set(listed)))
        self.assertTrue(set(ids) <= set(listed))
        stats = self.client.stats()
        self.assertGreaterEqual(stats["by_status"]["pending"], 5)
        self.assertGreaterEqual(stats["total"], 5)

    def test_problem_errors(self) -> None:
        with self.assertRaises(NotFound) as cm:
            self.client.get_job("00000000-0000-0000-0000-000000000000")
        self.assertEqual(cm.exception.status, 404)
        self.assertTrue(cm.exception.type.endswith("not-found"))
        with self.assertRaises(ValidationError) as cm:
            self.client.create_job(0)
        self.assertEqual(cm.exception.status, 422)
        self.assertEqual(cm.exception.errors[0]["field"], "count")
        self.assertIsInstance(cm.exception, botrix_client.BotrixError)

        job_id = self.client.create_job(1)["job_id"]
        with self.assertRaises(PreconditionFailed):
            self.client.cancel(job_id, if_match='"99-0"')
        etag = self.client.request("GET", f"/api/jobs/{job_id}").etag
        self.assertEqual(self.client.cancel(job_id, reason="test", if_match=etag)["status"], "cancelled")
        with self.assertRaises(Conflict) as cm:
            self.client.cancel(job_id)
        self.assertEqual(cm.exception.status, 409)
        self.assertIn("cancelled", cm.exception.detail)

    def test_idempotent_create_replays(self) -> None:
        a = self.client.create_job(2, idempotency_key="same-key-create")
        b = self.client.create_job(2, idempotency_key="same-key-create")
        self.assertEqual(a["job_id"], b["job_id"])
        with self.assertRaises(botrix_client.IdempotencyKeyReused):
            self.client.create_job(3, idempotency_key="same-key-create")

    def test_low_level_worker_calls(self) -> None:
        # drain whatever earlier tests left, then work on our own job
        job_id = self.client.create_job(2, priority=10)["job_id"]
        claim = self.client.claim("w-low", lease_seconds=30)
        self.assertIsNotNone(claim)
        self.assertEqual(claim.job_id, job_id)
        self.assertTrue(claim.claim_token.startswith("ct_"))
        hb = self.client.heartbeat(job_id, "w-low", claim.claim_token)
        self.assertEqual(hb["instruction"], "continue")
        acct = fake_account("low")
        rec = self.client.record_account(job_id, "w-low", claim.claim_token, idempotency_key="rec-1", **acct)
        again = self.client.record_account(job_id, "w-low", claim.claim_token, idempotency_key="rec-1", **acct)
        self.assertEqual(rec["id"], again["id"])  # replayed, not recorded twice
        job = self.client.progress(job_id, "w-low", claim.claim_token, successful=1, message="half")
        self.assertEqual(job["progress"], 1)
        released = self.client.release(job_id, "w-low", claim.claim_token, reason="test")
        self.assertEqual(released["status"], "pending")
        with self.assertRaises(Conflict):  # the old token may no longer act
            self.client.complete(job_id, "w-low", claim.claim_token)
        claim2 = self.client.claim("w-low2")
        self.assertEqual(claim2.job_id, job_id)
        failed = self.client.fail(job_id, "w-low2", claim2.claim_token, error="boom", retry=True)
        self.assertEqual(failed["status"], "pending")
        self.assertIsNotNone(failed["available_at"])  # the retry waits out its backoff
        self.assertGreaterEqual(self.client.queue()["retries_waiting"], 1)
        time.sleep(1.2)  # the backoff (at most RETRY_BACKOFF_MAX_SECONDS=1, see _support) ends
        claim3 = self.client.claim("w-low3", max_jobs=4)
        self.assertIsInstance(claim3, list)
        self.assertIn(job_id, [c.job_id for c in claim3])
        for c in claim3:
            self.client.complete(c.job_id, "w-low3", c.claim_token)
        accounts = list(self.client.list_accounts(job_id=job_id))
        self.assertEqual([a["email"] for a in accounts], [acct["email"]])
        self.assertEqual(self.client.get_job(job_id)["status"], "completed")

    def test_long_poll_claim_times_out_with_none(self) -> None:
        for c in self.client.claim("w-drain", max_jobs=32):  # empty the queue first
            self.client.complete(c.job_id, "w-drain", c.claim_token)
        t0 = time.monotonic()
        self.assertIsNone(self.client.claim("w-idle", wait_seconds=1))
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)


class Auth(unittest.TestCase):
    def test_api_key(self) -> None:
        server = BotrixServer().start()
        self.addCleanup(server.close)
        key = server.create_key("py-test", "admin")
        with self.assertRaises(Unauthorized) as cm:
            Client(server.url).stats()
        self.assertEqual(cm.exception.status, 401)
        self.assertIn("total", Client(server.url, key).stats())


class _Flaky(http.server.BaseHTTPRequestHandler):
    """A fake server: answers 503 (Retry-After: 1) until told otherwise, records requests."""

    failures_left = 0
    seen: list = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append((self.path, self.headers.get("Idempotency-Key"), json.loads(body), time.monotonic()))
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            payload = json.dumps({"type": "/problems/overloaded", "title": "Busy", "status": 503, "detail": "busy"})
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/problem+json")
        else:
            payload = json.dumps({"job_id": "j1", "status": "pending", "count": 1, "message": "ok"})
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
        data = payload.encode()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


class Retries(unittest.TestCase):
    def setUp(self) -> None:
        _Flaky.seen = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.addCleanup(self.httpd.server_close)
        self.addCleanup(self.httpd.shutdown)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def test_retry_after_is_honoured_and_key_reused(self) -> None:
        _Flaky.failures_left = 2
        client = Client(self.url, backoff_base=0.01, max_retries=3)
        self.assertEqual(client.create_job(1)["job_id"], "j1")
        self.assertEqual(len(_Flaky.seen), 3)
        keys = {k for _, k, _, _ in _Flaky.seen}
        self.assertEqual(len(keys), 1, "one Idempotency-Key across the retries of one call")
        self.assertIsNotNone(keys.pop())
        gaps = [b[3] - a[3] for a, b in zip(_Flaky.seen, _Flaky.seen[1:])]
        self.assertTrue(all(g >= 0.95 for g in gaps), f"Retry-After: 1 not honoured: {gaps}")
        # a second call gets its own key
        client.create_job(1)
        self.assertNotEqual(_Flaky.seen[-1][1], _Flaky.seen[0][1])

    def test_gives_up_after_max_retries(self) -> None:
        _Flaky.failures_left = 10
        client = Client(self.url, backoff_base=0.01, max_retries=1)
        with self.assertRaises(Unavailable) as cm:
            client.create_job(1)
        self.assertEqual(cm.exception.retry_after, 1.0)
        self.assertEqual(len(_Flaky.seen), 2)

    def test_connection_refused_is_transport_error(self) -> None:
        client = Client(f"http://127.0.0.1:{free_port()}", backoff_base=0.01, max_retries=2)
        t0 = time.monotonic()
        with self.assertRaises(TransportError) as cm:
            client.get_job("x")
        self.assertIsNone(cm.exception.status)
        self.assertLess(time.monotonic() - t0, 5)


if __name__ == "__main__":
    unittest.main()
