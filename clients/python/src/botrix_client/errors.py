"""Exceptions raised by the Botrix client and worker."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = [
    "BotrixError",
    "TransportError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "RequestTimeout",
    "Conflict",
    "PreconditionFailed",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "ValidationError",
    "IdempotencyKeyReused",
    "RateLimited",
    "ServerError",
    "BadGateway",
    "Unavailable",
    "GatewayTimeout",
    "InsufficientStorage",
    "JobCancelled",
    "JobLost",
    "WorkerStopping",
    "error_for_status",
]


class BotrixError(Exception):
    """An error answer of the server (application/problem+json) or a failure to reach it.

    Attributes mirror RFC 9457: ``status`` (None for a transport failure), ``type``,
    ``title``, ``detail``, ``errors`` (``[{field, message}]`` for validation),
    ``request_id``, ``retry_after`` (seconds, from the Retry-After header, or None)
    and ``body`` (the decoded problem, or the raw text).
    """

    #: whether the client retries this error by itself (with backoff)
    transient = False

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        type: str | None = None,
        title: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body
        self.method = method
        self.url = url
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.method} {self.url}: " if self.method and self.url else ""
        status = f"{self.status} " if self.status is not None else ""
        kind = f"[{self.type}] " if self.type else ""
        return f"{where}{status}{kind}{self.detail}"


class TransportError(BotrixError):
    """The server could not be reached or the connection broke (no HTTP status)."""

    transient = True


class BadRequest(BotrixError):
    """400: malformed JSON, parameter or header."""


class Unauthorized(BotrixError):
    """401: missing, malformed, unknown or revoked API key."""


class Forbidden(BotrixError):
    """403: the key lacks the scope the route needs."""


class NotFound(BotrixError):
    """404: no such job, account or route."""


class RequestTimeout(BotrixError):
    """408: the body did not arrive in time (safe to retry with the same Idempotency-Key)."""

    transient = True


class Conflict(BotrixError):
    """409: the command does not fit the job's state.

    For a worker it means: this attempt may no longer act on the job (stale claim token,
    job cancelled or finished, lease lost). Stop working on it.
    """


class PreconditionFailed(BotrixError):
    """412: If-Match named a stale version."""


class PayloadTooLarge(BotrixError):
    """413: the body is over 256 KiB."""


class UnsupportedMediaType(BotrixError):
    """415: the body is not application/json."""


class ValidationError(BotrixError):
    """422: validation failed; ``errors`` lists each field."""


class IdempotencyKeyReused(ValidationError):
    """422 /problems/idempotency-key-reused: the same key was sent with another body."""


class RateLimited(BotrixError):
    """429: rate limit (or too many waiting claims); honour ``retry_after``."""

    transient = True


class ServerError(BotrixError):
    """5xx not listed below (500: unexpected error or a damaged record)."""


class BadGateway(ServerError):
    """502 from a proxy in front of the server."""

    transient = True


class Unavailable(ServerError):
    """503: storage unavailable, overloaded, or the server is stopping."""

    transient = True


class GatewayTimeout(ServerError):
    """504 from a proxy in front of the server."""

    transient = True


class InsufficientStorage(ServerError):
    """507: the disk or the map is full; nothing was written."""

    transient = True


_BY_STATUS: dict[int, type[BotrixError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    408: RequestTimeout,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationError,
    429: RateLimited,
    502: BadGateway,
    503: Unavailable,
    504: GatewayTimeout,
    507: InsufficientStorage,
}


def error_for_status(
    status: int,
    problem: Mapping[str, Any] | None,
    *,
    text: str = "",
    retry_after: float | None = None,
    request_id: str | None = None,
    method: str | None = None,
    url: str | None = None,
) -> BotrixError:
    """Build the exception for an error answer (``problem`` is the decoded problem+json)."""
    problem = problem or {}
    ptype = problem.get("type") if isinstance(problem.get("type"), str) else None
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else BotrixError
    if status == 422 and ptype and ptype.endswith("idempotency-key-reused"):
        cls = IdempotencyKeyReused
    detail = problem.get("detail") or problem.get("title") or text.strip()[:500] or f"HTTP {status}"
    errors = problem.get("errors") if isinstance(problem.get("errors"), list) else None
    return cls(
        str(detail),
        status=status,
        type=ptype,
        title=problem.get("title"),
        errors=errors,
        request_id=problem.get("request_id") or request_id,
        retry_after=retry_after,
        body=problem if problem else text,
        method=method,
        url=url,
    )


# --- worker-side signals -------------------------------------------------------------


class JobCancelled(Exception):
    """Raised by a JobContext method when the worker must stop working on the job.

    Either the operator cancelled it (heartbeat instruction ``cancel`` or a 409 saying
    so), or the attempt lost the job (:class:`JobLost`). Nothing more may be reported:
    let it propagate out of the handler (the worker then makes no further call).
    """

    def __init__(self, job_id: str, reason: str) -> None:
        self.job_id = job_id
        self.reason = reason
        super().__init__(f"job {job_id}: {reason}")


class JobLost(JobCancelled):
    """The attempt may no longer act on the job (409: stale token, lease lost, finished)."""


class WorkerStopping(Exception):
    """Raised by :meth:`JobContext.check` once the worker was asked to stop (SIGTERM/SIGINT
    or :meth:`Worker.stop`). The worker then releases the job (or completes it when every
    account is recorded)."""
