"""The errors a use case may raise; one handler turns each into `{"detail", "code"}`."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "error"

    def __init__(self, detail: str | list[dict[str, Any]], headers: dict[str, str] | None = None):
        super().__init__(detail if isinstance(detail, str) else self.code)
        self.detail = detail
        self.headers = headers


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class PasswordChangeRequired(Forbidden):
    """An admin reset the password: the user may only choose a new one (or log out)."""

    code = "password_change_required"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class VersionConflict(Conflict):
    code = "version_conflict"


class RequestInProgress(Conflict):
    code = "request_in_progress"


class ApprovalPending(Conflict):
    code = "approval_pending"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"


class LoginBusy(DomainError):
    """Every password-hashing slot of this process stayed taken; the client tries again."""

    status_code = 503
    code = "login_busy"


class Invalid(DomainError):
    """Input that parses but cannot be accepted; the message names the field."""

    status_code = 422
    code = "invalid"


class PayloadInvalid(Invalid):
    code = "invalid_payload"


class GuardRefused(Invalid):
    code = "guard_refused"


class IdempotencyKeyReused(Invalid):
    code = "idempotency_key_reused"


class InvalidCursor(Invalid):
    code = "invalid_cursor"


class RangeTooLong(Invalid):
    code = "range_too_long"


class UnknownDimension(Invalid):
    code = "unknown_dimension"


class AllSuppressed(Invalid):
    """A published table whose every non-zero cell disclosure control would have to hide."""

    code = "all_suppressed"


class AlreadyAssigned(Conflict):
    code = "already_assigned"


class NotAssigned(Conflict):
    code = "not_assigned"


class CaseClosed(Conflict):
    code = "case_closed"


class CaseOpen(Conflict):
    code = "case_open"


class CaseErased(Conflict):
    code = "case_erased"


class MatchDecided(Conflict):
    """A possible duplicate already linked or dismissed (cases/duplicates)."""

    code = "match_decided"


class LegalHold(Conflict):
    code = "legal_hold"


class NoTransfer(Conflict):
    code = "no_transfer"


class ServiceNotOffered(Conflict):
    """The case's workflow version (or its step) offers no service requests."""

    code = "service_not_offered"


class ServiceAlreadyOpen(Conflict):
    code = "service_already_open"


class LawfulBasisRequired(Invalid):
    """UU 27/2022 Art. 20: no consent covers the recipient and no other basis was named."""

    code = "lawful_basis_required"


class LogBusy(DomainError):
    """A checkpoint could not lock the log in time (long-running writers); try again."""

    status_code = 503
    code = "log_busy"


RETRY_AFTER_SECONDS = 2


class DatabaseBusy(DomainError):
    """No connection (or no lock) could be had in time: the database is busy, not down.
    The request did nothing; the same request may be sent again after `Retry-After`."""

    status_code = 503
    code = "database_busy"

    def __init__(self, detail: str = "the database is busy; try again shortly") -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class InvalidMapping(Invalid):
    """A workflow migration's mapping that does not parse or does not fit both definitions."""

    code = "invalid_mapping"


class ChecksumMismatch(Invalid):
    """An apply whose checksum is not the mapping's: it is not the mapping the dry run showed."""

    code = "checksum_mismatch"


class ManifestUnreadable(Invalid):
    """An uploaded manifest that is not a CSV (UTF-8) or XLSX file, or whose columns are wrong."""

    code = "manifest_unreadable"


class ManifestTooLarge(DomainError):
    status_code = 413
    code = "manifest_too_large"
