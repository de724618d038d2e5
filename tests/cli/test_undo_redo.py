"""opp undo walks back one opp change at a time and opp redo walks forward again
(cli.md, "Undo, redo, edit"): each is one commit, the timeline shows it, a commit
opp did not make stops the walk, and any other change ends what can be redone."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import depth


def hand_commit(crm, message: str) -> None:
    (crm.root / "NOTES.txt").write_text(message)
    crm.git("add", "NOTES.txt")
    crm.git("-c", "user.name=Hand", "-c", "user.email=h@example.com", "commit", "-q",
            "-m", message)


@pytest.fixture
def three(crm, unchanged):
    """A deal, a hand commit, then three opp changes to it."""
    deal = crm.new("Acme renewal", "--amount", "100")
    hand_commit(crm, "notes by hand")
    states = [crm.file(deal).read_bytes()]
    for args in (("set", deal, "amount", "200"), ("stage", deal, "proposal"),
                 ("set", deal, "name", "Acme renewal 2027")):
        crm(*args)
        states.append(crm.file(deal).read_bytes())
    crm.deal, crm.states = deal, states
    return crm


def subject(crm) -> str:
    return crm.git("log", "-1", "--format=%s").strip()


def test_undo_walks_back_one_change_at_a_time(three, unchanged):
    crm, deal = three, three.deal
    commits = crm.commits()
    for step, expected in enumerate(reversed(crm.states[:-1]), 1):
        r = crm("undo")
        assert crm.file(deal).read_bytes() == expected
        assert crm.commits() == commits + step and crm.status() == ""
        assert "undo" in r.stderr
    assert subject(crm) == f"{deal} Acme renewal: undo set amount 100.00 -> 200.00"
    # the next is a commit opp did not make: refused, naming it, nothing changed
    with unchanged:
        r = crm("undo", code=1)
    assert "notes by hand" in r.stderr and "was not made by opp" in r.stderr
    assert "git revert" in r.stderr


def test_redo_walks_forward_again_then_stops(three, unchanged):
    crm, deal = three, three.deal
    for _ in range(3):
        crm("undo")
    for expected in crm.states[1:]:
        crm("redo")
        assert crm.file(deal).read_bytes() == expected
    assert subject(crm) == f"{deal} Acme renewal 2027: redo set name Acme renewal -> " \
        "Acme renewal 2027"
    assert "Opp-Action: redo" in crm.git("log", "-1", "--format=%b")
    with unchanged:
        r = crm("redo", code=1)
    last = crm.git("log", "-1", "--format=%h").strip()[:7]
    assert "nothing to redo: every undo is redone already, the last by " in r.stderr
    assert last in r.stderr  # the redo commit, not the change it re-applied


def test_another_change_ends_what_can_be_redone(three, unchanged):
    crm, deal = three, three.deal
    crm("undo")
    crm("undo")
    crm("set", deal, "owner", "bob")
    with unchanged:
        r = crm("redo", code=1)
    assert "nothing to redo" in r.stderr and "set owner" in r.stderr
    # undo now takes back the new change first, then walks on past the undone ones
    crm("undo")
    assert crm.file(deal).read_bytes() == crm.states[1]
    crm("undo")
    assert crm.file(deal).read_bytes() == crm.states[0]


def test_undo_after_redo_takes_back_the_redone_change(three):
    crm, deal = three, three.deal
    crm("undo")
    crm("undo")
    crm("redo")
    assert crm.file(deal).read_bytes() == crm.states[2]
    crm("undo")
    assert crm.file(deal).read_bytes() == crm.states[1]
    crm("redo")
    crm("redo")
    assert crm.file(deal).read_bytes() == crm.states[3]


def test_the_timeline_shows_each_undo_and_redo(three):
    crm, deal = three, three.deal
    crm("undo")
    crm("undo")
    crm("redo")
    entries = crm.json("timeline", deal)
    assert [e["summary"].split(": ", 1)[1] for e in entries[-3:]] == [
        "undo set name Acme renewal -> Acme renewal 2027",
        "undo stage prospecting -> proposal", "redo stage prospecting -> proposal"]
    assert [e["action"] for e in entries[-3:]] == ["undo", "undo", "redo"]
    text = crm("timeline", deal).stdout
    assert "undo stage prospecting -> proposal" in text
    assert "redo stage prospecting -> proposal" in text


def test_undo_stops_at_a_merge(crm):
    deal = crm.new("Deal")
    crm.git("checkout", "-q", "-b", "side")
    hand_commit(crm, "side work")
    crm.git("checkout", "-q", "-")
    crm("set", deal, "amount", "5")
    crm.git("-c", "user.name=Hand", "-c", "user.email=h@example.com", "merge", "-q",
            "--no-edit", "side")
    r = crm("undo", code=1)
    assert "is a merge" in r.stderr


def test_redo_with_nothing_undone(crm):
    crm.new("Deal")
    r = crm("redo", code=1)
    assert "nothing to redo" in r.stderr and "is not an undo" in r.stderr


@settings(max_examples=depth(8), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["change", "undo", "redo"]), min_size=1, max_size=10))
def test_undo_and_redo_behave_like_an_editor(crm, steps):
    """Against the model every editor follows: a stack of undos and one of redos that
    any new change empties; a refusal exactly when the stack is empty."""
    scratch = crm.root.parent / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(crm.root, scratch, symlinks=True)

    def run(*args, code=0):
        return crm("--repo", scratch, *args, code=code)

    deal = run("new", "Deal", "--customer", "Acme").stdout.strip()
    subprocess.run(["git", "-c", "user.name=H", "-c", "user.email=h@x", "commit", "-q",
                    "--allow-empty", "-m", "floor"], cwd=scratch, check=True)
    current, undos, redos = 0, [], []
    for n, step in enumerate(steps, 1):
        stack, other = (undos, redos) if step == "undo" else (redos, undos)
        if step == "change":
            run("set", deal, "amount", str(n))
            undos.append(current)
            redos.clear()
            current = n
        elif not stack:
            run(step, code=1)
        else:
            run(step)
            other.append(current)
            current = stack.pop()
        assert run("show", deal, "--format", "json").stdout.count(
            f'"amount": "{current}.00"') == 1, (steps, n)
