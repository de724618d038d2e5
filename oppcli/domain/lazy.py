"""Mappings whose values are made when first read: a cache hands over thousands of raw
values (2,000 accounts from the index) and a command looks at a few (#20)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


class Built(Mapping):
    """``raw`` (key -> raw value) seen through ``build(key, raw value)``, each value
    built once, when first read."""

    def __init__(self, raw: Mapping[str, Any], build: Callable[[str, Any], Any]):
        self.raw, self.build = raw, build
        self.made: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self.made:
            self.made[key] = self.build(key, self.raw[key])
        return self.made[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __contains__(self, key: object) -> bool:
        return key in self.raw


class Later(Mapping):
    """The mapping ``table()[key]``, read when first asked for (``table`` keeps what it
    read: one read for every ``Later`` of it)."""

    def __init__(self, key: str, table: Callable[[], Mapping[str, Mapping[str, Any]]]):
        self.key, self.table = key, table

    def __getitem__(self, name: str) -> Any:
        return self.table()[self.key][name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table()[self.key])

    def __len__(self) -> int:
        return len(self.table()[self.key])
