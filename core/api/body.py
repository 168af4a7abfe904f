"""Reading large request bodies: size limits (413), gzip, fast JSON and CSV parsing."""

import gzip
import io
import zlib

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError, UnsupportedMediaType

from .errors import PayloadTooLarge


def read_raw_body(request, max_bytes: int | None = None) -> bytes:
    """The request body, gunzipped when ``Content-Encoding: gzip``; 413 past ``max_bytes``.

    The limit applies both to the bytes on the wire and to the decompressed size, so a
    small gzip bomb is refused as surely as a large plain body.
    """
    limit = max_bytes or settings.VIGIL_MAX_BODY_BYTES
    django_request = request._request
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError("Invalid Content-Length header.") from None
    if declared > limit:
        raise PayloadTooLarge(f"Request body of {declared} bytes exceeds the limit of {limit} bytes.")
    raw = django_request.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
    encoding = django_request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise UnsupportedMediaType(
            encoding, detail=f"Unsupported Content-Encoding '{encoding}': use gzip or none."
        )
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = decompressor.decompress(raw, limit + 1)
        if len(body) > limit or decompressor.unconsumed_tail:
            raise PayloadTooLarge(f"Decompressed body exceeds the limit of {limit} bytes.")
        if not decompressor.eof:
            raise ParseError("Body is not valid gzip: the stream is truncated.")
        return body
    except (zlib.error, gzip.BadGzipFile, EOFError) as exc:
        raise ParseError(f"Body is not valid gzip: {exc}") from None


def parse_json_body(request, max_bytes: int | None = None):
    raw = read_raw_body(request, max_bytes)
    if not raw.strip():
        raise ParseError("Request body is empty: send a JSON array.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"Malformed JSON: {exc}") from None


def parse_csv_body(request, max_bytes: int | None = None):
    """CSV body -> pandas DataFrame with every column as string (typing is the caller's job)."""
    import pandas as pd

    raw = read_raw_body(request, max_bytes)
    if not raw.strip():
        raise ParseError("Request body is empty: send CSV with a header row.")
    try:
        return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ParseError(f"Malformed CSV: {exc}") from None


def content_type(request) -> str:
    return (request.content_type or "").split(";")[0].strip().lower()
