"""One error shape for the whole API: ``{"detail": "...", "errors": {...}}``, and its schema."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler


class ApiError(exceptions.APIException):
    """An API error with a sentence and a field -> messages mapping."""

    def __init__(self, detail: str | None = None, errors: dict | None = None):
        super().__init__(detail)
        self.errors = errors or {}


class BadRequest(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid input."
    default_code = "invalid"


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


class ErrorBody(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(help_text="Field (with row index for batches) -> messages.")


ERROR_DESCRIPTIONS = {
    400: "Bad input: the field (and row index) is named in errors.",
    401: "Missing, unknown or revoked token.",
    403: "The token lacks the scope this endpoint needs.",
    404: "Unknown model, version or record.",
    409: "Conflict with the stored state (already exists, or a prerequisite is missing).",
    413: "Request body over the size limit.",
    415: "Unsupported Content-Type or Content-Encoding.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The schema of the error answers an endpoint gives, for ``extend_schema(responses=...)``."""
    return {code: OpenApiResponse(ErrorBody, description=ERROR_DESCRIPTIONS[code]) for code in codes}


def _flatten(data) -> tuple[str, dict]:
    """Turn DRF's error payloads into a sentence plus a field -> messages mapping."""
    if isinstance(data, dict):
        if set(data) == {"detail"}:
            return str(data["detail"]), {}
        errors = {
            key: value if isinstance(value, list | dict) else [str(value)] for key, value in data.items()
        }
        first_field = next(iter(errors))
        first = errors[first_field]
        message = first[0] if isinstance(first, list) and first else first
        detail = (
            f"Invalid input: {first_field}: {message}" if first_field != "non_field_errors" else str(message)
        )
        return detail, errors
    if isinstance(data, list):
        return (str(data[0]) if data else "Invalid input."), {"non_field_errors": data}
    return str(data), {}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        response.data = {"detail": str(exc.detail), "errors": exc.errors}
        return response
    detail, errors = _flatten(response.data)
    response.data = {"detail": detail, "errors": errors}
    return response
