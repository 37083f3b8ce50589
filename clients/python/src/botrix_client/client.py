"""HTTP client for the Botrix job-queue server (standard library only)."""

from __future__ import annotations

import datetime as _dt
import email.utils
import http.client
import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from . import __version__
from .errors import BotrixError, TransportError, error_for_status

__all__ = ["Client", "Claim", "Response", "new_idempotency_key"]

log = logging.getLogger("botrix_client")

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_idempotency_key(prefix: str = "py") -> str:
    """A fresh Idempotency-Key (one per logical operation, reused across its retries)."""
    return f"{prefix}-{uuid.uuid4().hex}"


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return max(0.0, (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds())


@dataclass
class Response:
    """A successful (< 400) answer: status, headers and the decoded JSON body (or None)."""

    status: int
    headers: Mapping[str, str]
    data: Any
    replayed: bool = False

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")


@dataclass
class Claim:
    """One claimed job: send ``claim_token`` with every later call on it."""

    job: dict[str, Any]
    claim_token: str
    lease_expires_at: str | None
    attempt: int
    lease_seconds: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def job_id(self) -> str:
        return self.job["id"]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Claim":
        return cls(
            job=dict(data["job"]),
            claim_token=data["claim_token"],
            lease_expires_at=data.get("lease_expires_at"),
            attempt=int(data.get("attempt") or 1),
            lease_seconds=int(data.get("lease_seconds") or 0),
            raw=dict(data),
        )


def _clean(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _quote(segment: Any) -> str:
    return urllib.parse.quote(str(segment), safe="")


class Client:
    """Operator and low-level worker calls against one Botrix server.

    Every call retries transient failures — connection errors, timeouts, 408, 429, 502,
    503, 504 and 507 — with exponential backoff and jitter, waiting at least the
    ``Retry-After`` the server sent. Every write carries an ``Idempotency-Key`` (a fresh
    one per call unless you pass your own) that is reused across its retries, so a retry
    after a lost answer replays the first answer instead of acting twice.

    Errors are raised as :class:`~botrix_client.errors.BotrixError` subclasses
    (``Conflict`` for 409, ``NotFound`` for 404, ...).

    :param base_url: e.g. ``http://127.0.0.1:8080``
    :param api_key: a ``btx_...`` key (omit for an open development server)
    :param timeout: socket timeout per request, seconds (a long-poll claim adds its wait)
    :param max_retries: retries after the first try, unless a call passes ``retry_for``
    :param backoff_base: first backoff delay, seconds (doubles each retry)
    :param backoff_max: largest backoff delay, seconds (Retry-After may ask for more)
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 0.25,
        backoff_max: float = 10.0,
        user_agent: str | None = None,
        opener: urllib.request.OpenerDirector | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.user_agent = user_agent or f"botrix-client-python/{__version__}"
        self._opener = opener or urllib.request.build_opener()

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    # ------------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_for: float | None = None,
        abort: Any = None,
    ) -> Response:
        """Send one logical request, retrying transient failures.

        :param idempotency_key: for writes; generated when omitted (pass ``""`` to send none)
        :param max_retries: overrides the client's retry count for this call
        :param retry_for: retry for up to this many seconds instead of a retry count
        :param abort: anything with ``is_set()`` (e.g. a threading.Event): once set, no
            further retry is made and the last error is raised
        """
        method = method.upper()
        url = self.base_url + path
        if query:
            q = {k: v for k, v in query.items() if v is not None}
            if q:
                url += "?" + urllib.parse.urlencode(q)
        hdrs = {"Accept": "application/json, application/problem+json", "User-Agent": self.user_agent}
        if self.api_key:
            hdrs["Authorization"] = f"Bearer {self.api_key}"
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if method in _WRITE_METHODS:
            if idempotency_key is None:
                idempotency_key = new_idempotency_key()
            if idempotency_key:
                hdrs["Idempotency-Key"] = idempotency_key
        if headers:
            hdrs.update(headers)
        timeout = self.timeout if timeout is None else timeout
        retries_left = self.max_retries if max_retries is None else max_retries
        deadline = None if retry_for is None else time.monotonic() + retry_for

        attempt = 0
        while True:
            attempt += 1
            try:
                status, rheaders, raw = self._once(method, url, data, hdrs, timeout)
            except TransportError as exc:
                err: BotrixError = exc
            else:
                if status < 400:
                    return Response(
                        status=status,
                        headers=rheaders,
                        data=self._decode(rheaders, raw),
                        replayed=(rheaders.get("Idempotent-Replayed") or "").lower() == "true",
                    )
                err = self._error(status, rheaders, raw, method, url)
                if not err.transient:
                    raise err
            # transient: decide whether and how long to wait
            if abort is not None and abort.is_set():
                raise err
            delay = self._backoff(attempt)
            if err.retry_after is not None:
                delay = max(delay, err.retry_after + random.uniform(0, 0.25))
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise err
                delay = min(delay, max(remaining, 0.05))
            else:
                if retries_left <= 0:
                    raise err
                retries_left -= 1
            log.info("%s %s: %s; retry %d in %.2fs", method, path, _short(err), attempt, delay)
            if abort is None:
                time.sleep(delay)
            else:  # poll, so that any object with is_set() works (also signal-safe flags)
                end = time.monotonic() + delay
                while time.monotonic() < end:
                    if abort.is_set():
                        raise err
                    time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter"

    def _once(
        self, method: str, url: str, data: bytes | None, headers: Mapping[str, str], timeout: float
    ) -> tuple[int, Mapping[str, str], bytes]:
        req = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            try:
                raw = exc.read()
            except (OSError, http.client.HTTPException):
                raw = b""
            finally:
                exc.close()
            return exc.code, exc.headers, raw
        except urllib.error.URLError as exc:
            raise TransportError(f"cannot reach the server: {exc.reason}", method=method, url=url) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(
                f"connection failed: {type(exc).__name__}: {exc}", method=method, url=url
            ) from exc

    @staticmethod
    def _decode(headers: Mapping[str, str], raw: bytes) -> Any:
        if not raw:
            return None
        ctype = (headers.get("Content-Type") or "").lower()
        if "json" in ctype:
            try:
                return json.loads(raw.decode("utf-8"))
            except ValueError:
                pass
        return raw.decode("utf-8", "replace")

    def _error(
        self, status: int, headers: Mapping[str, str], raw: bytes, method: str, url: str
    ) -> BotrixError:
        text = raw.decode("utf-8", "replace") if raw else ""
        problem = None
        if text:
            try:
                decoded = json.loads(text)
                if isinstance(decoded, dict):
                    problem = decoded
            except ValueError:
                pass
        return error_for_status(
            status,
            problem,
            text=text,
            retry_after=_parse_retry_after(headers.get("Retry-After")),
            request_id=headers.get("X-Request-ID"),
            method=method,
            url=url,
        )

    # ------------------------------------------------------------------ health

    def ping(self) -> bool:
        """True when ``/health/ping`` answers 200 (one try, no retries)."""
        try:
            self.request("GET", "/health/ping", max_retries=0, timeout=min(self.timeout, 5.0))
            return True
        except BotrixError:
            return False

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health").data

    # ------------------------------------------------------------------ operator

    def create_job(
        self,
        count: int,
        priority: int | str | None = None,
        *,
        verification_enabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Create a job of ``count`` accounts; priority 0-10 or "low"/"normal"/"high".

        Returns ``{"job_id", "status", "count", "message"}``.
        """
        body = _clean({"count": count, "priority": priority, "verification_enabled": verification_enabled})
        return self.request("POST", "/api/jobs", body=body, idempotency_key=idempotency_key).data

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/jobs/{_quote(job_id)}").data

    def list_jobs_page(
        self,
        *,
        limit: int | None = None,
        after: str | None = None,
        page: int | None = None,
        status: str | None = None,
    ) -> dict[str, Any]:
        """One page: ``{"data": [...], "pagination": {..., "next"}}``."""
        q = {"limit": limit, "after": after, "page": page, "status": status}
        return self.request("GET", "/api/jobs", query=q).data

    def list_jobs(self, *, status: str | None = None, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every job (newest first), following ``pagination.next`` cursors lazily."""
        after = None
        while True:
            page = self.list_jobs_page(limit=page_size, after=after, status=status)
            yield from page.get("data") or []
            after = (page.get("pagination") or {}).get("next")
            if not after or not page.get("data"):
                return

    def list_accounts_page(
        self,
        *,
        job_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        after: str | None = None,
        page: int | None = None,
    ) -> dict[str, Any]:
        q = {"job_id": job_id, "status": status, "limit": limit, "after": after, "page": page}
        return self.request("GET", "/api/accounts", query=q).data

    def list_accounts(
        self, *, job_id: str | None = None, status: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every account (newest first), optionally of one job, following cursors."""
        after = None
        while True:
            page = self.list_accounts_page(job_id=job_id, status=status, limit=page_size, after=after)
            yield from page.get("data") or []
            after = (page.get("pagination") or {}).get("next")
            if not after or not page.get("data"):
                return

    def get_account(self, account_id: int, *, reveal_password: bool = False) -> dict[str, Any]:
        q = {"reveal": "password"} if reveal_password else None
        return self.request("GET", f"/api/accounts/{_quote(account_id)}", query=q).data

    def stats(self) -> dict[str, Any]:
        """``GET /api/jobs/stats``: totals by status, queue depth, success rate."""
        return self.request("GET", "/api/jobs/stats").data

    def account_stats(self) -> dict[str, Any]:
        return self.request("GET", "/api/accounts/stats").data

    def queue(self, *, limit: int | None = None) -> dict[str, Any]:
        return self.request("GET", "/api/queue", query={"limit": limit}).data

    def job_events(self, job_id: str, *, after: int | None = None, limit: int | None = None) -> dict[str, Any]:
        return self.request("GET", f"/api/jobs/{_quote(job_id)}/events", query={"after": after, "limit": limit}).data

    def cancel(
        self,
        job_id: str,
        *,
        reason: str | None = None,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Cancel a job (409 ``Conflict`` when already finished; 412 when ``if_match`` is stale)."""
        headers = {"If-Match": if_match} if if_match else None
        return self.request(
            "POST",
            f"/api/jobs/{_quote(job_id)}/cancel",
            body=_clean({"reason": reason}),
            headers=headers,
            idempotency_key=idempotency_key,
        ).data

    # ------------------------------------------------------------------ worker (low level)

    def claim(
        self,
        worker_id: str,
        *,
        lease_seconds: int | None = None,
        wait_seconds: int | None = None,
        max_jobs: int | None = None,
        idempotency_key: str | None = None,
        max_retries: int | None = None,
        retry_for: float | None = None,
        abort: Any = None,
    ) -> Claim | list[Claim] | None:
        """Lease the head of the queue.

        Returns a :class:`Claim`, ``None`` when nothing was ready (204), or — when
        ``max_jobs`` is given — a list of claims (empty on 204). With ``wait_seconds``
        (0-30) the server holds the request until a job is ready (long poll).
        """
        body = _clean(
            {"worker_id": worker_id, "lease_seconds": lease_seconds, "wait_seconds": wait_seconds, "max_jobs": max_jobs}
        )
        timeout = self.timeout + (wait_seconds or 0)
        resp = self.request(
            "POST",
            "/api/queue/claim",
            body=body,
            idempotency_key=idempotency_key,
            timeout=timeout,
            max_retries=max_retries,
            retry_for=retry_for,
            abort=abort,
        )
        if resp.status == 204 or not resp.data:
            return [] if max_jobs is not None else None
        if "jobs" in resp.data:
            claims = [Claim.from_json(c) for c in resp.data["jobs"]]
            return claims if max_jobs is not None else (claims[0] if claims else None)
        one = Claim.from_json(resp.data)
        return [one] if max_jobs is not None else one

    def heartbeat(
        self,
        job_id: str,
        worker_id: str,
        claim_token: str,
        *,
        lease_seconds: int | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """Renew the lease: ``{"instruction": "continue"|"cancel"|"shutdown", "job", "lease_expires_at"}``."""
        body = _clean({"worker_id": worker_id, "claim_token": claim_token, "lease_seconds": lease_seconds})
        return self.request("POST", f"/api/jobs/{_quote(job_id)}/heartbeat", body=body, **kw).data

    def record_account(
        self,
        job_id: str,
        worker_id: str,
        claim_token: str,
        *,
        email: str,
        username: str,
        password: str,
        birthdate: str | _dt.date,
        verification_code: str | None = None,
        status: str | None = None,
        account_data: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """Hand back one produced account (201 → the account, without its password)."""
        if isinstance(birthdate, _dt.date):
            birthdate = birthdate.isoformat()
        body = _clean(
            {
                "worker_id": worker_id,
                "claim_token": claim_token,
                "email": email,
                "username": username,
                "password": password,
                "birthdate": birthdate,
                "verification_code": verification_code,
                "status": status,
                "account_data": dict(account_data) if account_data is not None else None,
            }
        )
        return self.request("POST", f"/api/jobs/{_quote(job_id)}/accounts", body=body, **kw).data

    def progress(
        self,
        job_id: str,
        worker_id: str,
        claim_token: str,
        *,
        progress: int | None = None,
        successful: int | None = None,
        failed: int | None = None,
        message: str | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        body = _clean(
            {
                "worker_id": worker_id,
                "claim_token": claim_token,
                "progress": progress,
                "successful": successful,
                "failed": failed,
                "message": message,
            }
        )
        return self.request("POST", f"/api/jobs/{_quote(job_id)}/progress", body=body, **kw).data

    def complete(self, job_id: str, worker_id: str, claim_token: str, **kw: Any) -> dict[str, Any]:
        body = {"worker_id": worker_id, "claim_token": claim_token}
        return self.request("POST", f"/api/jobs/{_quote(job_id)}/complete", body=body, **kw).data

    def fail(
        self, job_id: str, worker_id: str, claim_token: str, *, error: str, retry: bool = False, **kw: Any
    ) -> dict[str, Any]:
        """Fail the attempt; ``retry=True`` puts the job back in the queue (spends an attempt)."""
        body = {"worker_id": worker_id, "claim_token": claim_token, "error": error[:2000] or "error", "retry": retry}
        return self.request("POST", f"/api/jobs/{_quote(job_id)}/fail", body=body, **kw).data

    def release(
        self, job_id: str, worker_id: str, claim_token: str, *, reason: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        """Give the job back unfinished, without spending an attempt."""
        body = _clean({"worker_id": worker_id, "claim_token": claim_token, "reason": reason and reason[:1000]})
        return self.request("POST", f"/api/jobs/{_quote(job_id)}/release", body=body, **kw).data


def _short(err: BotrixError) -> str:
    if err.status is None:
        return err.detail
    return f"{err.status} {err.detail}"
