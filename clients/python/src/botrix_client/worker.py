"""A worker loop for Botrix: long-poll claims, heartbeats, clean stops."""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import signal
import threading
import time
from typing import Any, Callable, Mapping

from .client import Claim, Client, new_idempotency_key
from .errors import (
    BotrixError,
    Conflict,
    JobCancelled,
    JobLost,
    NotFound,
    TransportError,
    WorkerStopping,
)

__all__ = ["Worker", "JobContext"]

log = logging.getLogger("botrix_client.worker")


class _Flag:
    """A bool with ``is_set()``; safe to set from a signal handler (no locks involved)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = False

    def set(self) -> None:
        self.value = True

    def is_set(self) -> bool:
        return self.value


def _is_cancel(err: BotrixError) -> bool:
    # The 409's problem type names why (/problems/job-cancelled, stale-attempt, ...).
    return (err.type or "").endswith("/job-cancelled")


class JobContext:
    """What a handler gets for one claimed job.

    * :attr:`job` — the job as last seen (dict: ``id``, ``count``, ``progress``, ...)
    * :attr:`remaining` — accounts still to record (``count`` minus those recorded by
      earlier attempts and by this one)
    * :meth:`record_account` — hand back one account (retry-safe, see below)
    * :meth:`progress` — report counters and a message
    * :attr:`cancelled` — True once the job must be dropped (operator cancel, or the
      attempt lost the job); every method then raises :class:`JobCancelled`
    * :attr:`stopping` — True once the worker was asked to stop (SIGTERM/SIGINT):
      finish the account in hand, then return (the worker releases the job)
    * :meth:`wait` / :meth:`check` — sleep / check points that notice both
    """

    def __init__(self, worker: "Worker", claim: Claim) -> None:
        self._worker = worker
        self._client = worker.client
        self.claim = claim
        self.job: dict[str, Any] = dict(claim.job)
        self.job_id: str = claim.job_id
        self.claim_token: str = claim.claim_token
        self.attempt: int = claim.attempt
        self.worker_id: str = worker.worker_id
        self.count: int = int(self.job.get("count") or 0)
        # accounts already recorded by earlier attempts (newer servers count them apart
        # from the reported `progress` as `accounts_recorded`)
        before = self.job.get("accounts_recorded")
        self._start_recorded: int = int((self.job.get("progress") if before is None else before) or 0)
        #: the accounts recorded by this attempt (server answers, no passwords)
        self.recorded: list[dict[str, Any]] = []
        self._gone = threading.Event()  # cancelled or lost
        self.lost = False
        self.stop_reason: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"JobContext(job_id={self.job_id!r}, attempt={self.attempt}, remaining={self.remaining})"

    # -------------------------------------------------------------- state

    @property
    def cancelled(self) -> bool:
        """True once the worker must stop working on this job (cancelled or lost)."""
        return self._gone.is_set()

    @property
    def stopping(self) -> bool:
        """True once the worker was asked to stop (signal or :meth:`Worker.stop`)."""
        return self._worker.stop_requested

    @property
    def should_stop(self) -> bool:
        return self.cancelled or self.stopping

    @property
    def remaining(self) -> int:
        return max(0, self.count - self._start_recorded - len(self.recorded))

    def check(self) -> None:
        """Raise :class:`JobCancelled` if the job was cancelled/lost, or
        :class:`WorkerStopping` if the worker is stopping. Call it between accounts."""
        self._raise_if_gone()
        if self.stopping:
            raise WorkerStopping(f"worker {self.worker_id} is stopping")

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``. Returns True when the time passed, False early when the
        worker is stopping; raises :class:`JobCancelled` when the job is cancelled/lost."""
        end = time.monotonic() + max(0.0, seconds)
        while True:
            self._raise_if_gone()
            if self.stopping:
                return False
            left = end - time.monotonic()
            if left <= 0:
                return True
            self._gone.wait(min(left, 0.1))

    # -------------------------------------------------------------- reports

    def record_account(
        self,
        email: str,
        username: str,
        password: str,
        birthdate: str | _dt.date,
        *,
        verification_code: str | None = None,
        status: str | None = None,
        account_data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record one produced account; returns the server's account (no password).

        Retry-safe: the Idempotency-Key is derived from the job, the claim token and the
        whole body, so retries — the client's own, or yours after a
        :class:`TransportError` — replay the first answer instead of recording twice.
        The call keeps retrying through a server restart (up to ``Worker.retry_for``),
        even after a stop was requested: an account in hand is never dropped.

        Raises :class:`JobCancelled`/:class:`JobLost` on 409 (stop working on the job),
        :class:`ValidationError` on 422 (e.g. email or username already used),
        :class:`ValueError` when the job already has all its accounts.
        """
        self._raise_if_gone()
        if self.remaining <= 0:
            raise ValueError(f"job {self.job_id} already has all {self.count} accounts")
        if isinstance(birthdate, _dt.date):
            birthdate = birthdate.isoformat()
        fields = {
            "email": email,
            "username": username,
            "password": password,
            "birthdate": birthdate,
            "verification_code": verification_code,
            "status": status,
            "account_data": dict(account_data) if account_data is not None else None,
        }
        key = self._worker._derived_key("acct", self.job_id, self.claim_token, fields)
        try:
            account = self._client.record_account(
                self.job_id,
                self.worker_id,
                self.claim_token,
                idempotency_key=key,
                retry_for=self._worker.retry_for,
                **fields,
            )
        except (Conflict, NotFound) as exc:
            raise self._give_up(exc) from exc
        with self._lock:
            self.recorded.append(account)
        log.info(
            "recorded account %s (id %s) for job %s [%d/%d]",
            email,
            account.get("id"),
            self.job_id,
            self.count - self.remaining,
            self.count,
        )
        return account

    def progress(
        self,
        progress: int | None = None,
        *,
        successful: int | None = None,
        failed: int | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """Report counters/message (also renews the lease). Returns the job."""
        self._raise_if_gone()
        try:
            job = self._client.progress(
                self.job_id,
                self.worker_id,
                self.claim_token,
                progress=progress,
                successful=successful,
                failed=failed,
                message=message,
                retry_for=self._worker.retry_for,
            )
        except (Conflict, NotFound) as exc:
            raise self._give_up(exc) from exc
        self._update_job(job)
        return job

    # -------------------------------------------------------------- internals

    def _raise_if_gone(self) -> None:
        if self._gone.is_set():
            cls = JobLost if self.lost else JobCancelled
            raise cls(self.job_id, self.stop_reason or "cancelled")

    def _mark_gone(self, reason: str, lost: bool) -> None:
        with self._lock:
            if self._gone.is_set():
                return
            self.lost = lost
            self.stop_reason = reason
            self._gone.set()
        log.warning("job %s: %s; dropping it (no further calls)", self.job_id, reason)

    def _give_up(self, exc: BotrixError) -> JobCancelled:
        lost = not _is_cancel(exc)
        self._mark_gone(f"{exc.status}: {exc.detail}", lost=lost)
        cls = JobLost if self.lost else JobCancelled
        return cls(self.job_id, self.stop_reason or exc.detail)

    def _update_job(self, job: Mapping[str, Any] | None) -> None:
        if isinstance(job, Mapping) and job.get("id") == self.job_id:
            self.job = dict(job)


Handler = Callable[[JobContext], Any]


class Worker:
    """Claims jobs and runs ``handler(ctx)`` on each, until stopped.

    Lifecycle of one job: long-poll claim → a heartbeat thread renews the lease every
    ``lease_seconds / 3`` → ``handler(ctx)`` → ``complete`` when it returns, ``fail``
    (retry=True) when it raises, ``release`` when it stopped early because the worker
    is stopping. A heartbeat instruction ``cancel`` or any 409 marks the job cancelled:
    the handler's next call raises :class:`JobCancelled` and no further call is made.
    Instruction ``shutdown`` lets the current job finish and ends :meth:`run`.

    :param retry_for: how long calls on a claimed job keep retrying while the server is
        unreachable (default ``max(60, 2 * lease_seconds)``)
    :param handle_signals: :meth:`run` installs SIGTERM/SIGINT handlers (main thread only)
        that stop claiming and let the current job end cleanly
    """

    def __init__(
        self,
        base_url: str,
        worker_id: str,
        handler: Handler,
        api_key: str | None = None,
        lease_seconds: int = 60,
        wait_seconds: int = 20,
        *,
        client: Client | None = None,
        handle_signals: bool = True,
        retry_for: float | None = None,
        heartbeat_fraction: float = 1 / 3,
    ) -> None:
        if not 0 <= wait_seconds <= 30:
            raise ValueError("wait_seconds must be 0..30")
        if lease_seconds < 1:
            raise ValueError("lease_seconds must be >= 1")
        self.client = client or Client(base_url, api_key, backoff_max=5.0)
        self.worker_id = worker_id
        self.handler = handler
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.handle_signals = handle_signals
        self.retry_for = retry_for if retry_for is not None else max(60.0, 2.0 * lease_seconds)
        self.heartbeat_fraction = heartbeat_fraction
        self._stop = _Flag()
        self._no_more_claims = _Flag()
        self._secret = os.urandom(32)
        self.current: JobContext | None = None
        self.jobs_done = 0

    # -------------------------------------------------------------- control

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask :meth:`run` to stop: claim nothing more, let the current job end cleanly.
        Safe from any thread and from signal handlers."""
        self._stop.set()

    def _on_signal(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self._stop.is_set():
            log.warning("%s again: already stopping, finishing the current job", name)
            return
        self._stop.set()
        log.warning("%s: stopping after the current job is reported", name)

    def _install_signals(self) -> dict[int, Any]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, self._on_signal)
        return previous

    # -------------------------------------------------------------- main loop

    def run(self, max_jobs: int | None = None) -> int:
        """Claim and handle jobs until stopped (signal, :meth:`stop`, heartbeat
        ``shutdown``) or ``max_jobs`` were handled. Returns the number handled.
        Raises :class:`BotrixError` for a non-transient claim error (e.g. 401/403)."""
        previous = self._install_signals()
        try:
            return self._loop(max_jobs)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _loop(self, max_jobs: int | None) -> int:
        handled = 0
        key: str | None = None
        ambiguous = False  # the last claim broke off without an answer
        failures = 0
        while True:
            if self._stop.is_set() or self._no_more_claims.is_set():
                break
            if max_jobs is not None and handled >= max_jobs:
                break
            key = key or new_idempotency_key("claim")
            try:
                claim = self.client.claim(
                    self.worker_id,
                    lease_seconds=self.lease_seconds,
                    wait_seconds=self.wait_seconds,
                    idempotency_key=key,
                    abort=self._stop,
                )
            except BotrixError as exc:
                if not exc.transient:
                    raise
                ambiguous = isinstance(exc, TransportError)
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("claim failed (%s); retrying in %.1fs", exc.detail, delay)
                self._sleep(delay)
                continue  # same key: a claim that went through is replayed, not doubled
            key, ambiguous, failures = None, False, 0
            if claim is None:
                continue
            if self._stop.is_set():
                self._release_unstarted(claim)
                break
            self._process(claim)
            handled += 1
            self.jobs_done += 1
        if ambiguous and key:
            self._resolve_ambiguous_claim(key)
        log.info("worker %s stopped after %d job(s)", self.worker_id, handled)
        return handled

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stop.is_set() and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def _resolve_ambiguous_claim(self, key: str) -> None:
        # A claim broke off mid-request: if the server took it, our key replays the job
        # (we release it) instead of leaving it leased to nobody until the lease expires.
        try:
            claim = self.client.claim(
                self.worker_id,
                lease_seconds=self.lease_seconds,
                wait_seconds=self.wait_seconds,
                idempotency_key=key,
                max_retries=0,
            )
        except BotrixError:
            return
        if claim is not None:
            self._release_unstarted(claim)

    def _release_unstarted(self, claim: Claim) -> None:
        try:
            self.client.release(
                claim.job_id, self.worker_id, claim.claim_token, reason="worker stopping", retry_for=self.retry_for
            )
            log.info("released job %s unstarted (worker stopping)", claim.job_id)
        except BotrixError as exc:
            log.warning("could not release job %s: %s", claim.job_id, exc)

    # -------------------------------------------------------------- one job

    def _process(self, claim: Claim) -> None:
        ctx = JobContext(self, claim)
        self.current = ctx
        log.info(
            "claimed job %s (attempt %d, %d of %d accounts to go)", ctx.job_id, ctx.attempt, ctx.remaining, ctx.count
        )
        hb_stop = threading.Event()
        hb = threading.Thread(
            target=self._heartbeat_loop, args=(ctx, hb_stop), name=f"botrix-heartbeat-{ctx.job_id[:8]}", daemon=True
        )
        hb.start()
        outcome = "returned"
        error: BaseException | None = None
        try:
            self.handler(ctx)
        except JobCancelled:
            outcome = "cancelled"
        except WorkerStopping:
            outcome = "stopping"
        except Exception as exc:  # the handler failed: give the job back for another try
            outcome, error = "error", exc
            log.exception("handler failed on job %s", ctx.job_id)
        finally:
            hb_stop.set()
            hb.join(timeout=2.0)
            self.current = None

        if ctx.cancelled:
            log.info("job %s dropped: %s", ctx.job_id, ctx.stop_reason or "cancelled")
            return
        if outcome == "cancelled":  # the handler raised JobCancelled on its own: hand the job back
            self._finish(ctx, "release", reason="handler gave up")
            return
        if outcome == "error":
            message = f"{type(error).__name__}: {error}"
            self._finish(ctx, "fail", error=message, retry=True)
        elif (outcome == "stopping" or self._stop.is_set()) and ctx.remaining > 0:
            self._finish(ctx, "release", reason="worker stopping")
        else:
            if ctx.remaining > 0:
                log.warning("handler returned with %d of %d accounts missing; completing", ctx.remaining, ctx.count)
            self._finish(ctx, "complete")

    def _finish(self, ctx: JobContext, action: str, **kw: Any) -> None:
        call = getattr(self.client, action)
        try:
            job = call(ctx.job_id, self.worker_id, ctx.claim_token, retry_for=self.retry_for, **kw)
        except (Conflict, NotFound) as exc:
            log.warning("job %s: %s refused (%s); the job is no longer ours", ctx.job_id, action, exc.detail)
            return
        except BotrixError as exc:
            log.error("job %s: %s failed: %s (the lease will run out on the server)", ctx.job_id, action, exc)
            return
        ctx._update_job(job)
        past = {"complete": "completed", "fail": "failed (will retry)", "release": "released"}[action]
        log.info("job %s %s with %d account(s) from this attempt", ctx.job_id, past, len(ctx.recorded))

    def _heartbeat_loop(self, ctx: JobContext, stop: threading.Event) -> None:
        lease = ctx.claim.lease_seconds or self.lease_seconds
        interval = max(0.2, lease * self.heartbeat_fraction)
        wait = interval
        while not stop.wait(wait):
            try:
                answer = self.client.heartbeat(
                    ctx.job_id, self.worker_id, ctx.claim_token, retry_for=interval, abort=stop
                )
            except (Conflict, NotFound) as exc:
                if not stop.is_set():
                    ctx._mark_gone(f"heartbeat {exc.status}: {exc.detail}", lost=not _is_cancel(exc))
                return
            except BotrixError as exc:
                if not stop.is_set():
                    log.warning("heartbeat for job %s failed: %s; retrying", ctx.job_id, exc.detail)
                wait = 0.0  # the call itself backed off for up to one interval
                continue
            wait = interval
            ctx._update_job(answer.get("job"))
            instruction = answer.get("instruction")
            if instruction == "cancel":
                ctx._mark_gone("cancelled (heartbeat instruction)", lost=False)
                return
            if instruction == "shutdown" and not self._no_more_claims.is_set():
                self._no_more_claims.set()
                log.warning("server is shutting down: finishing job %s, then claiming no more", ctx.job_id)

    # -------------------------------------------------------------- helpers

    def _derived_key(self, kind: str, job_id: str, token: str, fields: Mapping[str, Any]) -> str:
        canonical = json.dumps(
            {"job": job_id, "token": token, "fields": {k: v for k, v in fields.items() if v is not None}},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        digest = hmac.new(self._secret, canonical, hashlib.sha256).hexdigest()[:48]
        return f"{kind}-{digest}"
