"""Ids: never one that YAML reads as a number (a hand-written customer id would then be
a number, and a test comparing the file's text failed once in about 10,000 draws)."""

from __future__ import annotations

import pytest
import yaml

from oppcli.domain import ids


@pytest.mark.parametrize("candidate, number", [
    ("37734577", True), ("0x1f2a3b", True), ("0b101101", True), ("00000000", True),
    ("3773457a", False), ("0xzz1234", False), ("0b12abcd", False), ("x0123456", False)])
def test_an_id_yaml_reads_as_a_number_is_drawn_again(candidate, number):
    assert ids.reads_as_a_number(candidate) is number
    assert isinstance(yaml.safe_load(candidate), int) is number


def test_new_ids_never_read_as_numbers(monkeypatch):
    draws = iter(["12345678", "0x00ff00", "0b010101", "1234567z"])
    monkeypatch.setattr(ids, "_random", lambda length: next(draws))
    assert ids.new_id() == "1234567z"
