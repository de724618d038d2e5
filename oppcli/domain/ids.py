"""Identifiers: short to type, random so that clones working offline never collide.

No counters: two salespeople creating deals in their own clones must not pick the
same id. Opportunity ids carry 40 random bits, panel items 30 bits (unique within
their panel); the alphabet leaves out letters that read like digits.
"""

from __future__ import annotations

import secrets
from collections.abc import Container

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32, lower case
OPP_ID_LENGTH = 8
ITEM_ID_LENGTH = 6


def _random(length: int) -> str:
    # 256 is a multiple of 32: the low 5 bits of a random byte are uniform
    return "".join(ALPHABET[b & 31] for b in secrets.token_bytes(length))


def new_id(taken: Container[str] = (), length: int = OPP_ID_LENGTH) -> str:
    """A fresh id not in ``taken`` (a set, or anything that answers ``in`` quickly:
    membership is tested once per try)."""
    while True:
        candidate = _random(length)
        if candidate not in taken and not reads_as_a_number(candidate):
            return candidate


def reads_as_a_number(candidate: str) -> bool:
    """Whether YAML reads these letters as a number (``37734577``, ``0x1f2a3b``,
    ``0b101101``): the files would quote such an id, and a person writing it by hand
    without quotes would get a number. Ids are drawn again instead (one draw in about
    10,000)."""
    digits = {"0x": "0123456789abcdef", "0b": "01"}.get(candidate[:2])
    return candidate.isdigit() or (digits is not None and len(candidate) > 2
                                   and all(c in digits for c in candidate[2:]))


def new_item_id(taken: Container[str] = ()) -> str:
    """A fresh id for an item of a panel (a product line, quote, note…)."""
    return new_id(taken, ITEM_ID_LENGTH)
