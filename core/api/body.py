"""Reading large request bodies: size limits (413), gzip, fast JSON and CSV parsing."""

import gzip
import io
import tempfile
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
    _check_declared_length(django_request, limit)
    raw = django_request.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
    if not _content_encoding(django_request):
        return raw
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


CHUNK = 256 * 1024


def spool_raw_body(request, max_bytes: int):
    """The body (gunzipped when ``Content-Encoding: gzip``) streamed into a temporary file.

    For large binary bodies (model files): memory stays at a few chunks whatever the size,
    where reading the body whole, inflating it and decoding it held three copies at once.
    413 past ``max_bytes`` on the wire or inflated. Returns the open file, at position 0;
    closing it deletes it.
    """
    django_request = request._request
    _check_declared_length(django_request, max_bytes)
    encoding = _content_encoding(django_request)
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    out = tempfile.NamedTemporaryFile(prefix="vigil-upload-", dir=settings.FILE_UPLOAD_TEMP_DIR)
    wire = written = 0
    try:
        while chunk := django_request.read(CHUNK):
            wire += len(chunk)
            if wire > max_bytes:
                raise PayloadTooLarge(f"Request body exceeds the limit of {max_bytes} bytes.")
            if decompressor is None:
                out.write(chunk)
                written = wire
                continue
            try:
                # max_length bounds each step's output: a bomb inflates one chunk at a time.
                data = decompressor.decompress(chunk, CHUNK)
                while data:
                    written += len(data)
                    if written > max_bytes:
                        raise PayloadTooLarge(f"Decompressed body exceeds the limit of {max_bytes} bytes.")
                    out.write(data)
                    data = decompressor.decompress(decompressor.unconsumed_tail, CHUNK)
            except zlib.error as exc:
                raise ParseError(f"Body is not valid gzip: {exc}") from None
        if decompressor is not None and not decompressor.eof:
            raise ParseError("Body is not valid gzip: the stream is truncated.")
        out.flush()
        out.seek(0)
        return out
    except BaseException:
        out.close()
        raise


def _check_declared_length(django_request, limit: int) -> None:
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError("Invalid Content-Length header.") from None
    if declared > limit:
        raise PayloadTooLarge(f"Request body of {declared} bytes exceeds the limit of {limit} bytes.")


def _content_encoding(django_request) -> str:
    encoding = django_request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding in ("", "identity"):
        return ""
    if encoding != "gzip":
        raise UnsupportedMediaType(
            encoding, detail=f"Unsupported Content-Encoding '{encoding}': use gzip or none."
        )
    return encoding


def parse_json_body(request, max_bytes: int | None = None):
    kind = content_type(request)
    # No Content-Type is taken as JSON (a bare curl -d aside); any other type is refused.
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(kind, detail=f"Unsupported Content-Type '{kind}': send application/json.")
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
