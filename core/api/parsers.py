"""DRF's JSON parser replaced by orjson, which refuses nesting deeper than 1024 levels.

The standard library parser recurses once per level and raises RecursionError (a 500) on a
body such as 10,000 opening brackets; orjson answers JSONDecodeError, made a 400 here.
Bodies parsed this way are small objects (registry, overrides), so they are capped too.
"""

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        # Imported here: errors imports rest_framework.views, which imports this module
        # (DEFAULT_PARSER_CLASSES) while it loads.
        from .errors import PayloadTooLarge

        limit = settings.VIGIL_MAX_OBJECT_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes for this endpoint.")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
