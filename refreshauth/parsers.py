"""Parsers that turn every malformed body into a 400, never a 500."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


def _read(stream: IO[bytes]) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ParseError(_("Request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE."))
    return data


def _no_constants(value: str) -> Any:
    raise ValueError(f"{value} is not valid JSON")


class BoundedParser(BaseParser):
    """Reads at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes, then decodes them."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        return self.decode(_read(stream))

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


class StrictJSONParser(BoundedParser):
    """``application/json``, UTF-8, no NaN or Infinity, bounded in size and depth."""

    media_type = "application/json"

    def decode(self, data: bytes) -> Any:
        try:
            return json.loads(data.decode("utf-8"), parse_constant=_no_constants)
        except RecursionError:
            raise ParseError(_("JSON parse error: nested too deeply.")) from None
        except (ValueError, UnicodeDecodeError):
            raise ParseError(_("JSON parse error.")) from None


class StrictFormParser(BoundedParser):
    """``application/x-www-form-urlencoded`` (the RFC 6749 token request), bounded."""

    media_type = "application/x-www-form-urlencoded"

    def decode(self, data: bytes) -> Any:
        try:
            return QueryDict(data, encoding="utf-8")
        except (SuspiciousOperation, UnicodeDecodeError, ValueError):
            raise ParseError(_("Form parse error.")) from None
