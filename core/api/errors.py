"""One error shape for the whole API: ``{"detail": "...", "errors": {...}}``."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


class BadRequest(exceptions.APIException):
    """A 400 with a sentence and a field -> messages mapping."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.errors = errors or {}


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
    if isinstance(exc, BadRequest):
        response.data = {"detail": str(exc.detail), "errors": exc.errors}
        return response
    detail, errors = _flatten(response.data)
    response.data = {"detail": detail, "errors": errors}
    return response


def error_response(detail: str, status_code: int, errors: dict | None = None) -> Response:
    return Response({"detail": detail, "errors": errors or {}}, status=status_code)
