"""opp's environment variables, read in one place and refused when malformed.

``OPP_TODAY`` (YYYY-MM-DD) and ``OPP_NOW`` (ISO 8601) pretend another day or time
(demos, tests); ``OPP_LOCK_TIMEOUT`` bounds the wait for the repo lock. A bad value
is a usage error naming the variable, never silently ignored. No heavy imports.
"""

from __future__ import annotations

import os
from datetime import date, datetime

from .errors import UsageError


def _get(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def today() -> date:
    """Today's date, or ``OPP_TODAY``."""
    forced = _get("OPP_TODAY")
    if forced is None:
        return date.today()
    try:
        if len(forced) != 10:
            raise ValueError("not YYYY-MM-DD")
        return date.fromisoformat(forced)
    except ValueError as exc:
        raise UsageError(f"OPP_TODAY='{forced}' is not a date ({exc}); write it as YYYY-MM-DD "
                         "or unset it") from None


def now() -> datetime:
    """This moment, timezone-aware, to the second; ``OPP_NOW``, else ``OPP_TODAY`` at the
    current time of day."""
    forced = _get("OPP_NOW")
    if forced is None:
        moment = datetime.now().astimezone().replace(microsecond=0)
        day = today()
        return moment if day == moment.date() else moment.replace(
            year=day.year, month=day.month, day=day.day)
    try:
        moment = datetime.fromisoformat(forced)
    except ValueError as exc:
        raise UsageError(f"OPP_NOW='{forced}' is not an ISO 8601 time ({exc}); write it as "
                         "2026-11-26T10:30:00+01:00 or unset it") from None
    return (moment if moment.tzinfo else moment.astimezone()).replace(microsecond=0)


def lock_timeout() -> float:
    """Seconds to wait for the repo lock (``OPP_LOCK_TIMEOUT``, default 60)."""
    raw = _get("OPP_LOCK_TIMEOUT")
    if raw is None:
        return 60.0
    try:
        value = float(raw)
        if not 0 <= value < 10**7:
            raise ValueError
    except ValueError:
        raise UsageError(f"OPP_LOCK_TIMEOUT='{raw}' is not a number of seconds; "
                         "write e.g. 30, or unset it") from None
    return value


def check() -> None:
    """Refuse any malformed opp variable up front, whatever the command uses."""
    today()
    now()
    lock_timeout()
