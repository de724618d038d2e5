"""The errors of opp and the exit status each one gives.

Domain and storage code raise these; the command line turns them into a one-line
message on stderr and the exit status, never a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    REFUSED = 1  # a rule refused the change, or the data is invalid
    USAGE = 2  # the command line itself is wrong


class OppError(Exception):
    """Something the user can fix; the message says what and how."""

    exit_status = ExitStatus.REFUSED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RuleError(OppError):
    """A domain rule (R1-R20) refused the change."""


class NotFound(OppError):
    """An opportunity, product, stage or item that does not exist."""


class DataError(OppError):
    """A file of the data repo is unreadable or breaks the schema."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 column: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.message}" if where else self.message


class RepoError(OppError):
    """The data repo is missing, locked, dirty, or git failed."""


class UsageError(OppError):
    """The arguments are wrong in a way only known after parsing."""

    exit_status = ExitStatus.USAGE
