"""What no command can read in a command line: checked before click parses it, and by
git's merge driver, which runs without click."""

from __future__ import annotations

import re

# bytes that are not UTF-8 reach Python as lone surrogates (U+DC80-U+DCFF)
NOT_UTF8 = re.compile("[\udc80-\udcff]")


def readable(arg: str) -> bool:
    """Whether an argument holds neither a NUL byte nor bytes that are not UTF-8."""
    return "\0" not in arg and not NOT_UTF8.search(arg)
