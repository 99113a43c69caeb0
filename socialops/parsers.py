"""The one way the portal reads a JSON body: the API's parser (DRF's
``DEFAULT_PARSER_CLASSES``), the signed webhook and the bulk ingest all go
through ``loads``.

Two refusals, each a 4xx that says what to change, never a 500:

- a body nested deeper than ``SOCIALOPS_JSON_MAX_DEPTH`` levels (64) of lists
  and objects: Python's parser recurses once per level, so a body of 100,000
  ``[`` is a RecursionError, and a few hundred levels still parse into data
  that every later step (serializers, the jsonb column, the renderer) would
  have to recurse through again;
- a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (sized to the bulk
  ingest's 5,000-message batch, see ``socialops.settings.base``): a 413 that
  names the limit (``too_large_detail``, used by ``socialops.api`` and the
  webhook), instead of Django's bare HTML "Bad Request (400)"."""

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

DEFAULT_MAX_DEPTH = 64


class JSONTooDeepError(ValueError):
    """The body is nested deeper than the limit."""

    def __init__(self, limit: int):
        super().__init__(f"JSON nested deeper than {limit} levels: at most {limit} levels of lists and objects "
                         f"are accepted.")
        self.limit = limit


def max_depth() -> int:
    return int(getattr(settings, "SOCIALOPS_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def nested_deeper_than(value, limit: int) -> bool:
    """True when the lists and objects of ``value`` (parsed JSON) nest deeper
    than ``limit`` (a top-level list is one level). Iterative, so it never
    recurses itself, and stops at the first container past the limit."""
    if type(value) is not list and type(value) is not dict:
        return False
    if limit < 1:
        return True
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        for child in (node.values() if type(node) is dict else node):
            if type(child) is list or type(child) is dict:
                if depth >= limit:
                    return True
                if child:  # an empty one adds its level and nothing below it
                    stack.append((child, depth + 1))
    return False


def loads(data: bytes | str, *, encoding: str = "utf-8", limit: int | None = None):
    """Parses a JSON body. Refuses (``ValueError``, whose message says why)
    bytes that are not ``encoding`` text, a body nested deeper than
    ``limit`` (``JSONTooDeepError``), NaN and Infinity (not JSON, and
    PostgreSQL's jsonb cannot store them), and whatever else is not JSON."""
    limit = max_depth() if limit is None else limit
    text = data.decode(encoding) if isinstance(data, bytes | bytearray) else data
    try:
        value = json.loads(text, parse_constant=strict_constant)
    except RecursionError:
        # Deeper than the interpreter's stack allows, so far deeper than the limit.
        raise JSONTooDeepError(limit) from None
    if nested_deeper_than(value, limit):
        raise JSONTooDeepError(limit)
    return value


def too_large_detail() -> str:
    """What a 413 says: the limit, in bytes and MiB, and what to do."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return (f"Request body too large: at most {limit:,} bytes ({limit / 2 ** 20:.1f} MiB) per request "
            f"(DATA_UPLOAD_MAX_MEMORY_SIZE). Send less per request, e.g. messages in smaller batches.")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser through ``loads``: a body nested too deeply is a 400
    naming the limit, on every endpoint of the API."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return loads(stream.read(), encoding=encoding)
        except JSONTooDeepError as exc:
            raise ParseError(str(exc))
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}")
