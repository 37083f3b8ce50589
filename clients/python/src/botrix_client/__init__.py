"""Python client for Botrix, the HTTP job queue and ledger of account-provisioning jobs.

* :class:`Client` — operator calls (create, list, cancel jobs, stats) and the low-level
  worker calls (claim, heartbeat, record_account, progress, complete, fail, release),
  with retries of transient errors and an Idempotency-Key on every write.
* :class:`Worker` — a ready-made worker loop: long-poll claims, heartbeats, clean stops
  on SIGTERM/SIGINT, cancel handling.
"""

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    BadGateway,
    BadRequest,
    BotrixError,
    Conflict,
    Forbidden,
    GatewayTimeout,
    IdempotencyKeyReused,
    InsufficientStorage,
    JobCancelled,
    JobLost,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    ValidationError,
    WorkerStopping,
)
from .client import Claim, Client, Response, new_idempotency_key  # noqa: E402
from .worker import JobContext, Worker  # noqa: E402

__all__ = [
    "__version__",
    "Client",
    "Claim",
    "Response",
    "new_idempotency_key",
    "Worker",
    "JobContext",
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
]
