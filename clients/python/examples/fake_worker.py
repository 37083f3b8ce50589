#!/usr/bin/env python3
"""A Botrix worker that does fake work: it sleeps, then records made-up accounts
(user123456@example.com, ...). It contacts nothing but the Botrix server.

    python3 examples/fake_worker.py --url http://127.0.0.1:8080 --worker-id fake-1

SIGTERM or Ctrl-C: the account in hand is recorded, the job is released (or completed
when it has all its accounts) and the process exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import secrets
import sys

try:
    import botrix_client
except ImportError:  # running from the source tree without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    import botrix_client

from botrix_client import JobContext, ValidationError, Worker

log = logging.getLogger("fake_worker")


def make_account() -> dict:
    n = secrets.randbelow(10**9)
    days = secrets.randbelow(365 * 30)
    return {
        "email": f"user{n}@example.com",
        "username": f"user{n}",
        "password": secrets.token_urlsafe(12),
        "birthdate": dt.date(1970, 1, 1) + dt.timedelta(days=days),
        "account_data": {"source": "fake_worker"},
    }


def make_handler(delay: float):
    def handle(ctx: JobContext) -> None:
        log.info("working on job %s: %d account(s) to make", ctx.job_id, ctx.remaining)
        while ctx.remaining > 0:
            if not ctx.wait(delay):  # "work"; returns False when the worker is stopping
                log.info("stop requested: leaving job %s with %d to go", ctx.job_id, ctx.remaining)
                return
            for _ in range(5):  # a made-up name may already be taken: pick another
                try:
                    ctx.record_account(**make_account())
                    break
                except ValidationError as exc:
                    log.warning("account refused (%s); trying another name", exc.detail)
            else:
                raise RuntimeError("could not find a free username")
            ctx.progress(successful=ctx.count - ctx.remaining)
        log.info("job %s: all accounts recorded", ctx.job_id)

    return handle


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=os.environ.get("BOTRIX_URL", "http://127.0.0.1:8080"))
    p.add_argument("--api-key", default=os.environ.get("BOTRIX_API_KEY"), help="default: $BOTRIX_API_KEY")
    p.add_argument("--worker-id", default=f"fake-{os.getpid()}")
    p.add_argument("--delay", type=float, default=1.0, help="seconds of fake work per account")
    p.add_argument("--lease-seconds", type=int, default=60)
    p.add_argument("--wait-seconds", type=int, default=20, help="long-poll length (0-30)")
    p.add_argument("--max-jobs", type=int, default=None, help="exit after this many jobs")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    worker = Worker(
        args.url,
        args.worker_id,
        make_handler(args.delay),
        api_key=args.api_key,
        lease_seconds=args.lease_seconds,
        wait_seconds=args.wait_seconds,
    )
    log.info("fake worker %s on %s (botrix_client %s)", args.worker_id, args.url, botrix_client.__version__)
    worker.run(max_jobs=args.max_jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
