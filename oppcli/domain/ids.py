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
        if candidate not in taken:
            return candidate


def new_item_id(taken: Container[str] = ()) -> str:
    """A fresh id for an item of a panel (a product line, quote, note…)."""
    return new_id(taken, ITEM_ID_LENGTH)
