"""E-mail addresses and web sites as people type them: checked loosely, as a person
reads them, not by the RFCs; what is checked is only what is typed now (files written
before keep what they hold)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..errors import UsageError

_EMAIL = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\".]+(\.[^@\s<>(),;:\".]+)+")
_HOST = re.compile(r"[^\s@,;<>\"'/\\]+")


def check_email(text: str) -> str:
    """``name@example.com`` (a dot ending the domain is dropped); ``UsageError`` naming
    the value otherwise."""
    value = text.strip()
    if value.endswith(".") and not value.endswith(".."):
        value = value[:-1]
    if not _EMAIL.fullmatch(value):
        raise UsageError(f"'{text.strip()}' is not an e-mail address; write it as "
                         "name@example.com")
    return value


def check_website(text: str) -> str:
    """``example.com``, ``www.example.com/it``, ``https://example.com:8080`` or, with
    its scheme, a name without a dot (``http://intranet/crm``); ``UsageError`` naming
    the value otherwise."""
    value = text.strip()
    schemed = re.match(r"https?://", value, re.IGNORECASE) is not None
    try:
        parts = urlsplit(value if schemed else f"//{value}")
        host = parts.hostname or ""
        _ = parts.port  # a port that is no number raises here
    except ValueError:
        host = ""
    if not host or not _HOST.fullmatch(host) or (not schemed and "." not in host.strip(".")) \
            or " " in value or (parts.username or parts.password):
        raise UsageError(f"'{value}' is not a web site; write it as example.com or "
                         "https://www.example.com")
    return value
