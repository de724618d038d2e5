"""The ``opp`` command group: global options, the repo lookup, and the one place that
turns every error into a one-line message and an exit status.

Command modules import only click at start-up; models, YAML and git are imported
inside the commands that need them, so that ``opp --help`` stays instant.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .. import __version__
from ..errors import ExitStatus, OppError
from .argv import NOT_UTF8
from .terminal import colour, release

if TYPE_CHECKING:
    from ..store.repo import Repo

# True in the console script's process, which leaves at once (``os._exit``) when the
# command is done (``oppcli.cli.main``); False where opp runs inside another program
# (the tests' CliRunner).
leaves_at_once = False

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class State:
    """What every command may need, found lazily."""

    def __init__(self, repo_arg: str | None, quiet: bool = False, locale: str | None = None,
                 no_pager: bool = False):
        self.repo_arg = repo_arg
        self.quiet = quiet
        self.locale_arg = locale  # --locale or OPP_LOCALE, checked
        self.no_pager = no_pager
        self._repo: Repo | None = None

    @property
    def locale(self) -> str:
        """What people read is written in: --locale, else OPP_LOCALE, else opp.yaml's
        ``locale`` (read as reports read settings: from the index), else ``en``."""
        if self.locale_arg:
            return self.locale_arg
        from ..read.source import of

        try:
            return of(self.repo).settings().locale
        except OppError:  # no data repo here: the command says so where it matters
            return "en"

    @property
    def repo(self) -> Repo:
        if self._repo is None:
            from ..read.index.accounts import read_directory
            from ..read.source import remember
            from ..store.repo import Repo

            self._repo = Repo.find(self.repo_arg)
            self._repo.on_commit.append(remember)  # the index learns what a change wrote
            self._repo.accounts_reader = read_directory  # accounts by name, from the index
        return self._repo


def error_line(message: str) -> None:
    """One line on stderr, whatever the message quotes: control characters (a newline
    typed into a name, say) are shown escaped."""
    message = re.sub("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]",
                     lambda m: m.group().encode("unicode_escape").decode(), message.strip())
    click.echo(click.style("error:", fg="red", bold=True) + f" {message}", err=True,
               color=colour())


def note(message: str) -> None:
    """A message for people (stderr), never mixed with data; --quiet silences it."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and getattr(ctx.find_root().obj, "quiet", False):
        return
    click.echo(message, err=True, color=colour())


# The sections of 'opp --help', in the order a salesperson meets them.
SECTIONS = {
    "Deals": ["new", "show", "list", "set", "stage", "close", "reopen", "edit", "delete"],
    "Accounts and people": ["account", "person"],
    "Products and quotes": ["add-product", "update-product", "remove-product", "quote",
                            "close-quote", "catalog"],
    "Panels and history": ["contact", "partner", "competitor", "activity", "doc", "note",
                           "timeline", "undo", "redo"],
    "Reports": ["pipeline", "forecast", "changes", "dashboard", "agenda", "calendar"],
    "From the history": ["insights", "backtest", "quota", "attainment"],
    "Data and team": ["import", "export", "validate", "sync", "conflicts", "resolve"],
    "Setup": ["init", "config", "schema", "completion", "index"],
}


# The modules of ``oppcli.cli`` that define each top-level command and its sub-commands.
# The console script imports only those of the command it runs (#25: 10-20 ms less per
# command); ``commands`` imports them all (``opp --help``, the tests, the docs), and
# tests/cli/test_cli_core.py holds this table to what the modules define.
MODULES: dict[str, tuple[str, ...]] = {
    "account": ("accounts",), "person": ("accounts",), "activity": ("activities",),
    "add-product": ("products",), "remove-product": ("products",),
    "update-product": ("products",), "agenda": ("agenda",), "calendar": ("agenda",),
    "attainment": ("quotas",), "quota": ("quotas",), "backtest": ("insights",),
    "insights": ("insights",), "catalog": ("catalog", "transfer"),
    "export": ("transfer",), "import": ("transfer",), "changes": ("reports",),
    "forecast": ("reports",), "pipeline": ("reports",), "close-quote": ("quotes",),
    "quote": ("quotes",), "competitor": ("panels", "relations"),
    "contact": ("panels", "relations"), "partner": ("panels", "relations"),
    "completion": ("ecosystem",), "schema": ("ecosystem",), "config": ("config",),
    "conflicts": ("sync",), "merge-driver": ("sync",), "resolve": ("sync",),
    "sync": ("sync",), "dashboard": ("dashboard",), "doc": ("documents",),
    "edit": ("edit",), "index": ("index",), "init": ("repo",), "validate": ("repo",),
    "note": ("notes",), "redo": ("timeline",), "timeline": ("timeline",),
    "undo": ("timeline",),
    **dict.fromkeys(("close", "delete", "list", "new", "reopen", "set", "show", "stage"),
                    ("opportunities",)),
}


# The first paragraph of each visible top-level command's help (whitespace collapsed):
# 'opp --help' and a bare 'opp' list the commands from it, importing no command module
# (#18: the top-level help in under 0.06 s). A command missing here is hidden (the merge
# driver). tests/cli/test_cli_core.py holds it to the commands' own help.
SUMMARIES: dict[str, str] = {
    'account': 'Accounts: customers, partners and competitors, one file each (accounts/<ID>.yaml).',
    'activity': 'Activities: calls, visits, meetings, e-mails, tasks done for the deal.',
    'add-product': "Add a catalog product line; the amount becomes the products' total.",
    'agenda': 'What to do today: overdue and coming activities, late and stale deals, quotes '
              'awaiting an answer.',
    'attainment': 'Quota attainment per owner for PERIOD (a month, a quarter or a year).',
    'backtest': 'How good the forecast was: what it said before PERIOD against what was won.',
    'calendar': 'Every planned activity and expected close date, as a calendar file (.ics).',
    'catalog': 'The product catalog: only its products can be added to an opportunity.',
    'changes': 'What moved in the pipeline between --since and --until, from git history.',
    'close': 'Close an opportunity as won or lost; the close date becomes --date (default today).',
    'close-quote': 'Close a sent quote as accepted or rejected.',
    'competitor': 'Competitors: companies offering similar products.',
    'completion': "Print the script that makes SHELL (bash, zsh, fish) complete opp's commands.",
    'config': 'Read and change the settings in opp.yaml, one commit per change.',
    'conflicts': 'List the conflicts a sync or git pull left: opportunity, field, both values.',
    'contact': 'Contacts: referents at the customer, each with a role.',
    'dashboard': 'Write the pipeline dashboard: one self-contained HTML page with charts.',
    'delete': 'Delete an opportunity and its documents, in one commit.',
    'doc': 'Documents: files kept with the deal under documents/<ID>/, tracked by git.',
    'edit': "Edit an opportunity's YAML file in $VISUAL, else $EDITOR, else vi.",
    'export': 'Every opportunity, with the fields opp import reads (CSV, TSV, xlsx) or in full '
              '(JSON).',
    'forecast': 'The forecast: expected revenue of open and won deals per close period, owner, '
                'stage or forecast category.',
    'import': 'Import opportunities from a CSV or xlsx file, all or nothing, as one commit.',
    'index': 'The index of parsed opportunities under .git/ that makes reports fast.',
    'init': 'Create a data repo in DIRECTORY (default: here), with default settings.',
    'insights': 'What the git history says about how deals move.',
    'list': 'List opportunities, a row each, by close date.',
    'new': 'Create an opportunity; prints its id alone on stdout.',
    'note': 'Notes: messages about the deal, with who wrote them and when.',
    'partner': 'Partners: accounts that supply or support the sale, each with a role.',
    'person': "People at an account: a deal's contacts name them.",
    'pipeline': 'The pipeline: per stage and currency, count, amount, weighted amount, objective.',
    'quota': 'Sales quotas: what each owner should win per month or quarter (quotas.yaml).',
    'quote': "Quotes: offers to the customer, made from an opportunity's products.",
    'redo': "Apply again the change the last 'opp undo' reverted, as a new commit.",
    'remove-product': 'Remove a product line; the amount follows (0.00 and typable again when '
                      'none is left).',
    'reopen': 'Reopen a closed opportunity so that it can be changed again.',
    'resolve': 'Settle a conflict left by a sync: keep ours, theirs, or a new value.',
    'schema': 'Print the JSON Schema of a file: opportunity, settings (opp.yaml), catalog, quotas '
              '(quotas.yaml) or account (accounts/ID.yaml).',
    'set': 'Change a field: name, customer, amount, objective, close-date, owner, currency, ref, '
           'category.',
    'show': 'Show one opportunity: its data and every panel.',
    'stage': 'Move an open opportunity to STAGE (id or label).',
    'sync': 'Exchange changes with the git remote: fetch, merge, push.',
    'timeline': "Show an opportunity's story, oldest first: changes, activities and notes.",
    'undo': 'Revert the most recent change made by opp that is not undone yet.',
    'update-product': "Change a product line's quantity, price or discount; the amount follows.",
    'validate': 'Check opp.yaml, catalog.yaml and every opportunity against the rules.',
}


def load_commands(group: click.Group, names) -> None:
    """Import the modules that define these commands (each registers its own on
    ``group``), then attach shell completion to what they added (completion.py)."""
    from .completion import attach

    for name in names:
        for module in MODULES.get(name, ()):
            __import__(f"{__package__}.{module}")  # (as ``import``: -X importtime sees it)
    attach(group)


def _option_names(command: click.Command | None) -> set[str]:
    """Every option name of ``command`` and, for a group, of the commands under it."""
    if command is None:
        return set()
    names = {n for p in command.params if isinstance(p, click.Option)
             for n in p.opts + p.secondary_opts}
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            names |= _option_names(sub)
    return names


class OppGroup(click.Group):
    """A group whose errors are one line on stderr with the contract's exit status."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in MODULES and ctx.parent is None:
            load_commands(self, [cmd_name])
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        if ctx.parent is None:
            return sorted(set(self.commands) | set(MODULES))
        return super().list_commands(ctx)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        """click's, whose "Did you mean" compares the typed name with the commands
        loaded: at the top level, with every visible command, loaded or not yet."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            typed = click.utils.make_str(args[0])
            if ctx.parent is not None or typed.startswith("-") or \
                    self.get_command(ctx, typed) is not None:
                raise
            visible = [n for n in self.list_commands(ctx) if n in SUMMARIES
                       or (n in self.commands and not self.commands[n].hidden)]
            close = difflib.get_close_matches(typed, visible)
            if not close:
                raise
            hint = (f"Did you mean {close[0]!r}?" if len(close) == 1
                    else f"(Possible options: {', '.join(sorted(close))})")
            raise click.UsageError(f"No such command {typed!r}. {hint}", ctx) from exc

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = self.globals_first(ctx, args)
        return super().parse_args(ctx, args)

    def globals_first(self, ctx: click.Context, args: list[str]) -> list[str]:
        """The top level's options (-q, --repo DIR, --no-pager…) taken from anywhere
        before a ``--``, as git and gh take theirs: ``opp list -q`` is ``opp -q list``;
        never one the command itself has (``opp import --locale it`` keeps its own)."""
        flags: set[str] = set()
        valued: set[str] = set()
        for param in self.params:
            if isinstance(param, click.Option) and not param.is_eager:
                names = param.opts + param.secondary_opts
                (flags if param.is_flag or param.count else valued).update(names)
        i = 0
        while i < len(args) and args[i].startswith("-") and args[i] != "--":
            i += 2 if args[i] in valued else 1
        if i >= len(args) or args[i] == "--":
            return args
        own = _option_names(self.get_command(ctx, args[i]))
        flags -= own
        valued -= own
        moved: list[str] = []
        rest: list[str] = []
        j = i + 1
        while j < len(args):
            arg = args[j]
            if arg == "--":
                rest += args[j:]
                break
            if arg in valued and j + 1 < len(args):
                moved += args[j:j + 2]
                j += 2
                continue
            if arg in flags or (arg.startswith("--") and arg.split("=", 1)[0] in valued
                                and "=" in arg):
                moved.append(arg)
            else:
                rest.append(arg)
            j += 1
        return args[:i] + moved + [args[i]] + rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The top level's commands in sections (SECTIONS), anything else under 'Other'."""
        if ctx.parent is not None:
            return super().format_commands(ctx, formatter)
        # a command not loaded yet is shown from SUMMARIES, as click would shorten its help
        found = {name: self.commands.get(name) or (
            click.Command(name, help=SUMMARIES[name]) if name in SUMMARIES else None)
            for name in self.list_commands(ctx)}
        commands = {n: c for n, c in found.items() if c is not None and not c.hidden}
        placed = {n for names in SECTIONS.values() for n in names}
        sections = [(title, [n for n in names if n in commands])
                    for title, names in SECTIONS.items()]
        sections.append(("Other", sorted(n for n in commands if n not in placed)))
        pad = max(len(n) for n in commands)  # one column for every section
        width = formatter.width - 6 - pad
        for title, names in sections:
            if names:
                with formatter.section(title):
                    formatter.write_dl([(n.ljust(pad), commands[n].get_short_help_str(width))
                                        for n in names])

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> NoReturn:
        try:
            self._main(args, prog_name, complete_var, **extra)
        finally:
            release()  # what a command printed for the pager, should it end abruptly

    def _main(self, args: Sequence[str] | None, prog_name: str | None,
              complete_var: str | None, **extra: Any) -> NoReturn:
        given = [str(a) for a in (sys.argv[1:] if args is None else args)]
        _refuse_unreadable(given)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False,
                                  **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare 'opp' or 'opp quote'
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(ExitStatus.OK)
        except click.UsageError as exc:
            error_line(_usage_words(exc, given))
            sys.exit(ExitStatus.USAGE)
        except click.ClickException as exc:
            error_line(exc.format_message())
            sys.exit(exc.exit_code)
        except click.Abort:
            error_line("aborted")
            sys.exit(ExitStatus.REFUSED)
        except (Exception, KeyboardInterrupt) as exc:
            sys.exit(failed(exc))
        sys.exit(result if isinstance(result, int) else ExitStatus.OK)


def failed(exc: Exception | KeyboardInterrupt) -> int:
    """The exit status of a command that raised ``exc`` (not one of click's), once its
    one line is said; with OPP_DEBUG set, a bug or a refusal of the system is raised."""
    if isinstance(exc, OppError):
        error_line(str(exc))
        return exc.exit_status
    if isinstance(exc, KeyboardInterrupt):
        error_line("interrupted")
        return 130
    if isinstance(exc, BrokenPipeError):
        # the reader went away (opp list | head): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitStatus.OK
    if os.environ.get("OPP_DEBUG"):
        raise exc
    if isinstance(exc, OSError):  # the system refused (a path too long, no space…): say so
        where = f"{exc.filename}: " if exc.filename else ""
        error_line(f"{where}{exc.strerror or exc}")
    else:  # a bug: say so in one line, with a way to see more
        error_line(_unforeseen_words(exc))
    return ExitStatus.REFUSED


def _refuse_unreadable(given: list[str]) -> None:
    """Exit 2 on an argument no command could read: a NUL byte, bytes not UTF-8."""
    if any("\0" in a for a in given):
        # a real command line cannot hold one; a caller passing arguments can
        error_line("an argument holds a NUL byte; no text or path opp takes may")
        sys.exit(ExitStatus.USAGE)
    bad = next((a for a in given if NOT_UTF8.search(a)), None)
    if bad is not None:
        shown = bad.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        error_line(f"argument '{shown}' is not UTF-8 text; type it again (or set a "
                   "UTF-8 locale, e.g. LANG=C.UTF-8)")
        sys.exit(ExitStatus.USAGE)


def _usage_words(exc: click.UsageError, given: list[str]) -> str:
    """click's usage error in one line, with where to read more, or how to pass a value
    that starts with '-'."""
    hint = ""
    if exc.ctx is not None:
        hint = f" (see '{exc.ctx.command_path} --help')"
    if isinstance(exc, click.NoSuchOption) and exc.ctx is not None and \
            not exc.option_name.startswith("--"):
        # a name such as '-Acme' or '-5% deal': a value, not an option
        typed = next((a for a in given if a.startswith(exc.option_name)), exc.option_name)
        hint = (f" A value that starts with '-' goes after '--', which ends the "
                f"options: {exc.ctx.command_path} [OPTIONS] -- {typed}")
    return f"{exc.format_message()}{hint}"


def _unforeseen_words(exc: Exception) -> str:
    """An exception nothing caught, in one line: a value a model refused that no rule
    foresaw (refused, not a crash), else a bug, with the way to see the traceback."""
    if type(exc).__module__.startswith("pydantic") and hasattr(exc, "errors"):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = str(first.get("msg", exc)).removeprefix("Value error, ")
        return f"invalid value{' for ' + where if where else ''}: {message}"
    return (f"internal error: {type(exc).__name__}: {exc} "
            "(set OPP_DEBUG=1 for the traceback, and please report it)")


@click.group(cls=OppGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--repo", "repo_arg", metavar="DIR", envvar="OPP_REPO",
              help="The data repo (env OPP_REPO). Default: the nearest folder up holding "
                   "opp.yaml.")
@click.option("-q", "--quiet", is_flag=True, envvar="OPP_QUIET",
              help="No notes on stderr, for scripts (env OPP_QUIET); errors and data still "
                   "print.")
@click.option("--locale", "locale", metavar="LOCALE", envvar="OPP_LOCALE",
              help="Write what people read (tables, text, Markdown, the dashboard, the quote "
                   "document) the way of LOCALE: it, en, de, fr... (env OPP_LOCALE; default: "
                   "opp.yaml's locale). JSON, CSV and the files never change.")
@click.option("--no-pager", is_flag=True,
              help="Print directly, never through the pager (env OPP_PAGER, PAGER; "
                   "default less -FRX, on a terminal only).")
@click.version_option(__version__, "--version", prog_name="opp", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, repo_arg: str | None, quiet: bool, locale: str | None,
        no_pager: bool) -> None:
    """opp: sales opportunities as YAML files in a git repo.

    Every change is one git commit; read commands print tables for people and
    JSON or CSV for scripts (--format). Exit status: 0 done, 1 refused by a rule
    or invalid data, 2 wrong usage. Colour only on a terminal, never with
    NO_COLOR or TERM=dumb (CLICOLOR_FORCE=1 forces it); long output on a
    terminal goes through the pager. Global options may also follow the
    command (opp list -q). Every command has --help with an example.

    \b
    Example:
      opp init crm && cd crm
      opp catalog add SRV-01 --name "Support plan" --price 1200
      ID=$(opp new "Acme renewal" --customer "Acme Corp")
      opp add-product $ID SRV-01 --qty 2
      opp show $ID
    """
    from ..domain.money import speaking
    from ..env import check

    check()
    if locale and locale.strip():
        locale = checked_locale(locale)
    state = ctx.obj = State(repo_arg, quiet, locale or None, no_pager)
    ctx.call_on_close(speaking(lambda: state.locale))
    if colour() is not None:
        ctx.color = colour()


def checked_locale(text: str, option: str = "--locale") -> str:
    """A --locale value (or OPP_LOCALE's) as Babel names it; a usage error otherwise."""
    from ..domain.l10n import check_locale
    from ..errors import UsageError

    try:
        return check_locale(text)
    except ValueError as exc:
        where = f"{option} (or OPP_LOCALE)" if option == "--locale" else option
        raise UsageError(f"{where}: {exc}") from None


pass_state = click.pass_obj
