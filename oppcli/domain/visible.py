"""Text that reads as it shows: no invisible characters that make one name pass for
another or display otherwise than stored. Pure and light (no pydantic): the command
line's parameters and the models share it."""

from __future__ import annotations

import re
import unicodedata

# invisible controls that make text display in another order than it is stored
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")

# characters that show nothing (or a blank) and let one name pass for another: zero-width
# spaces and word joiners, the soft hyphen, direction marks, Hangul fillers, tag
# characters. Refused in one-line names; the joiners scripts and emoji need (U+200C,
# U+200D) stay allowed.
INVISIBLE = re.compile("[\u00ad\u061c\u115f\u1160\u180e\u200b\u200e\u200f"
                       "\u2060-\u2064\u3164\ufeff\uffa0\U000e0000-\U000e007f]")


def problem(text: str, *, line: bool = True) -> str | None:
    """Why ``text`` does not read as it shows, or None. ``line``: a one-line name, where
    invisible characters are refused too (notes keep them: scripts need some)."""
    found = BIDI.search(text)
    if found:
        return (f"holds an invisible text-direction control (U+{ord(found.group()):04X}), "
                "which makes text display otherwise than it reads; remove it")
    found = INVISIBLE.search(text) if line else None
    if found:
        char = found.group()
        name = unicodedata.name(char, "an invisible character")
        return (f"holds an invisible character (U+{ord(char):04X} {name}) at position "
                f"{found.start() + 1}, which lets one name pass for another; remove it")
    return None
