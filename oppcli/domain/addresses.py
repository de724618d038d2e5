"""E-mail addresses and web sites as people type them: checked loosely, as a person
reads them, not by the RFCs; what is checked is only what is typed now (files written
before keep what they hold)."""

from __future__ import annotations

import re

from ..errors import UsageError

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_SITE = re.compile(r"(https?://)?[^\s/.]+(\.[^\s/.]+)+(/\S*)?", re.IGNORECASE)


def check_email(text: str) -> str:
    """``name@example.com``; ``UsageError`` naming the value otherwise."""
    value = text.strip()
    if not _EMAIL.fullmatch(value):
        raise UsageError(f"'{value}' is not an e-mail address; write it as name@example.com")
    return value


def check_website(text: str) -> str:
    """``example.com``, ``www.example.com/it`` or ``https://example.com``; ``UsageError``
    naming the value otherwise."""
    value = text.strip()
    if not _SITE.fullmatch(value):
        raise UsageError(f"'{value}' is not a web site; write it as example.com or "
                         "https://www.example.com")
    return value
