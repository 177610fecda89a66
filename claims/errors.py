"""The project's one error tree; the CLI maps each class to an exit code.

Exit codes: 0 done; 1 done with recorded failures; 2 bad input; 3 could not start
(configuration, lock, database); 4 conflict (e.g. a proposal already decided, or stale);
5 an external service (arXiv, LLM endpoint) failed.
"""

from __future__ import annotations


class ClaimsError(Exception):
    """Root of every error this project raises on purpose."""

    exit_code = 1


class BadInput(ClaimsError):
    """The user's input (a document, an argument, a file) is malformed."""

    exit_code = 2


class DocumentError(BadInput):
    """A document could not be parsed; names the line and what was expected."""

    def __init__(self, message: str, line: int | None = None, path: str | None = None):
        self.line = line
        self.path = path
        where = ""
        if path:
            where += f"{path}:"
        if line is not None:
            where += f"{line}:"
        super().__init__(f"{where} {message}".strip() if where else message)


class NotFound(BadInput):
    """A claim, proposal or run named by the user does not exist."""


class ConfigError(ClaimsError):
    """Settings are missing or inconsistent."""

    exit_code = 3


class DatabaseError(ClaimsError):
    """The database cannot be opened or migrated."""

    exit_code = 3


class LockHeld(ClaimsError):
    """Another run holds the lock."""

    exit_code = 3


class Conflict(ClaimsError):
    """A write lost a race or contradicts the current state."""

    exit_code = 4


class AlreadyDecided(Conflict):
    """The proposal has already been approved or rejected."""


class StaleProposal(Conflict):
    """The evidence behind the proposal changed: it cannot be approved as it stands (claims.staleness)."""


class NotAllowed(ClaimsError):
    """The person is not allowed to do this (e.g. decide a proposal)."""

    exit_code = 2


class ServiceError(ClaimsError):
    """An external service failed: arXiv, the LLM endpoint."""

    exit_code = 5


class SourceUnavailable(ServiceError):
    """A paper source (arXiv or a mirror) cannot be reached or answers garbage."""


class JudgeUnavailable(ServiceError):
    """The LLM endpoint cannot be reached."""
