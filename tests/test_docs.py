"""The documentation holds together: every relative link and anchor of README.md,
docs/*.md and CONTRIBUTING.md leads somewhere, and docs/commands.md documents every
command and option of the click command tree, as tools/gen_commands.py writes it now."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import click
import pytest

from oppcli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = ROOT / "docs" / "commands.md"

sys.path.insert(0, str(ROOT / "tools"))
import gen_commands  # noqa: E402  (importable once tools/ is on sys.path, above)

# ------------------------------------------------------------------ reading Markdown


def prose(text: str) -> list[str]:
    """The page's lines outside fenced code blocks, inline code kept."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """The anchor a git forge (GitHub, and GitLab and Gitea alike) gives a heading:
    the text as shown, lower case, punctuation dropped, each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    kept = "".join(c for c in text
                   if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor, repeats numbered as forges number them (``x``, ``x-1``)."""
    seen: dict[str, int] = {}
    out = set()
    for line in prose(path.read_text(encoding="utf-8")):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    out.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', path.read_text(encoding="utf-8")))
    return out


LINK = re.compile(r"(?<!\!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every inline link and image outside code."""
    out = []
    text = path.read_text(encoding="utf-8")
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        line = re.sub(r"`[^`]*`", lambda m: " " * len(m.group()), line)
        out += [(number, m.group(1)) for m in LINK.finditer(line)]
        out += [(number, m.group(1)) for m in re.finditer(r"!\[[^\]]*\]\(([^)\s]+)\)", line)]
    return out


def test_the_slugs_are_the_forges():
    assert slug("R15a") == "r15a"
    assert slug("opp quote add-line") == "opp-quote-add-line"
    assert slug("Panels: relations, activities, documents, notes") == \
        "panels-relations-activities-documents-notes"
    assert slug("Stages, closing and forecast") == "stages-closing-and-forecast"
    assert slug("`opp.yaml` and the [rules](rules.md)") == "oppyaml-and-the-rules"
    assert slug("Rules R1–R20") == "rules-r1r20"


# ------------------------------------------------------------------ links


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for number, target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:…: not ours to check
            continue
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(ROOT)}:{number}: {target}"
        if not dest.exists():
            broken.append(f"{where}: no such file")
            continue
        if ROOT not in dest.parents and dest != ROOT:
            broken.append(f"{where}: outside the repository")
            continue
        if anchor:
            if dest.suffix != ".md":
                broken.append(f"{where}: an anchor into a file that is not Markdown")
            elif anchor not in anchors(dest):
                broken.append(f"{where}: no heading with anchor #{anchor}")
    assert not broken, "\n".join(broken)


def test_no_page_points_outside_the_repository():
    """No path of a machine, nor the team's folder beside the repository."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for pattern in (r"\.\./shared", r"/work/", r"/home/(?!ann/)", r"/root/"):
            assert not re.search(pattern, text), f"{page.name} names {pattern}"


def test_the_rules_have_stable_anchors():
    have = anchors(ROOT / "docs" / "rules.md")
    rules = {f"r{n}" for n in range(1, 21)} | {"r15a", "r17a"}
    assert rules <= have, sorted(rules - have)


def test_install_lines_fetch_only_this_project():
    """The PyPI package called opp is another project's: no command the pages give
    installs it (the README may warn against it in prose), nor does the CI example."""
    code = re.compile(r"^```.*?^```", re.M | re.S)
    for page in PAGES:
        for block in code.findall(page.read_text(encoding="utf-8")):
            for line in block.splitlines():
                if re.search(r"\bpip[x3]?\s+install\b", line):
                    assert not re.search(r"install\s+(-\S+\s+)*['\"]?opp\b(?![-.\w/])",
                                         line), f"{page.name}: {line}"
    workflow = (ROOT / "examples" / "ci" / "github-actions.yml").read_text(encoding="utf-8")
    assert re.search(r'^  OPP_PACKAGE: "opp-crm @ git\+', workflow, re.M)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pipx install git+" in readme and "pip install ." in readme
    assert "make demo" in readme and "make test" in readme
    assert len(readme.encode()) <= 12 * 1024


# ------------------------------------------------------------------ the command reference


def every_command():
    """(path, command) of every visible command and group, from the top."""
    def walk(command, path):
        yield path, command
        if isinstance(command, click.Group):
            for name in command.list_commands(click.Context(command)):
                sub = command.get_command(click.Context(command), name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, f"{path} {name}")
    yield from walk(cli, "opp")


def sections(text: str) -> dict[str, str]:
    """The reference's text under each command heading, by command path."""
    out: dict[str, str] = {}
    parts = re.split(r"^#{2,4} (opp(?: [\w-]+)*)\s*$", text, flags=re.M)
    for title, body in zip(parts[1::2], parts[2::2]):
        out[title] = body
    return out


def test_every_command_and_option_is_in_the_reference():
    documented = sections(COMMANDS.read_text(encoding="utf-8"))
    missing = []
    for path, command in every_command():
        body = documented.get(path)
        if body is None:
            missing.append(f"{path}: no heading")
            continue
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                for opt in param.opts + param.secondary_opts:
                    if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", body):
                        missing.append(f"{path}: {opt}")
            elif (isinstance(param, click.Argument)
                  and param.make_metavar(click.Context(command)).rstrip(".") not in body):
                missing.append(f"{path}: argument {param.name}")
    assert not missing, "\n".join(missing)
    assert len(documented) >= 80


def test_the_reference_is_current():
    """docs/commands.md is what the generator writes now; after changing a command,
    run `make docs`."""
    assert COMMANDS.read_text(encoding="utf-8") == gen_commands.render(), \
        "docs/commands.md is stale: run make docs"


def test_the_generator_runs_as_make_docs_runs_it(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_commands.py"), "--check"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "docs:" in (ROOT / "Makefile").read_text() and "gen_commands.py --write" in \
        (ROOT / "Makefile").read_text()


def test_every_top_level_command_has_its_line_in_the_readme():
    """The README's overview: a line of its own for each command, its name linked to
    its reference, then what it is for."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    listed = [m.group(1) for m in map(re.compile(r"- \[`([a-z-]+)`\]\(docs/commands\.md#"
                                                  r"opp-\1\) \w").match, lines) if m]
    commands = [path.split(" ")[1] for path, _ in every_command() if path.count(" ") == 1]
    assert sorted(listed) == sorted(commands)
