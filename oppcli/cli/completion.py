"""Shell completion: what TAB offers for ids, SKUs, stages, quotes, panel items, types…

Completion goes through click's own mechanism (``_OPP_COMPLETE``, scripts from
``opp completion SHELL``). The completers are attached by parameter name, once the
command modules are imported (``attach``), so that a command gets them by following
the naming convention: an opportunity ``ref``, a ``quote``, a ``sku``, a
``stage_name``, a panel ``item``, a product ``line``; options ``--type``,
``--role``, ``--stage``, ``--owner``, ``--customer``, ``--reason``, ``--sku``.

Completers run on every TAB, so they are cheap: ids are file names, names come from
the first lines of the files, settings and catalog are read as plain YAML without
the models. And they are quiet: whatever goes wrong (no data repo, a broken file),
the answer is no suggestions, never a message or a traceback.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

    from ..store.repo import Repo

NAMES_SHOWN = 300  # read names for at most this many ids (a file each)
SCAN_LIMIT = 5000  # files read to find owners and customers

# a top-level scalar field near the start of an opportunity file
_FIELD = re.compile(r"^(name|customer|owner|stage|currency): ?(.*?)\s*$", re.M)


def _quiet(completer: Callable) -> Callable:
    @functools.wraps(completer)
    def wrapper(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        try:
            return [CompletionItem(value, help=help_) for value, help_ in
                    completer(ctx, param, incomplete or "")]
        except Exception:  # completion must never break the shell line
            return []
    return wrapper


def _repo(ctx: click.Context) -> Repo:
    from ..store.repo import Repo

    return Repo.find(ctx.find_root().params.get("repo_arg"))


def _matching(pairs: Iterable[tuple[str, str | None]], incomplete: str
              ) -> list[tuple[str, str | None]]:
    key = incomplete.casefold()
    seen: set[str] = set()
    out = []
    for value, help_ in pairs:
        if value not in seen and value.casefold().startswith(key):
            seen.add(value)
            out.append((value, help_))
    return out


def _unquote(text: str) -> str:
    if text[:1] == "'" and text[-1:] == "'" and len(text) > 1:
        return text[1:-1].replace("''", "'")
    if text[:1] == '"':
        import yaml

        value = yaml.safe_load(text)
        return value if isinstance(value, str) else text
    return text


def head_fields(text: str) -> dict[str, str]:
    """name, customer, owner, stage, currency from the start of an opportunity file."""
    out: dict[str, str] = {}
    for key, value in _FIELD.findall(text):
        out.setdefault(key, _unquote(value))
    return out


def _heads(repo: Repo, ids: list[str]) -> dict[str, dict[str, str]]:
    from ..errors import OppError
    from ..read.index.accounts import names

    try:
        accounts = names(repo)  # a customer is an account id: show its name (#20)
    except OppError:
        accounts = {}
    out = {}
    for opp_id in ids:
        try:
            out[opp_id] = head_fields(repo.peek(opp_id))
        except OSError:
            continue
        customer = out[opp_id].get("customer")
        if customer in accounts:
            out[opp_id]["customer"] = accounts[customer]
    return out


def _settings(ctx) -> dict:
    data, _ = _repo(ctx).read_yaml("opp.yaml")
    return data if isinstance(data, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _opportunity(ctx) -> dict:
    """The raw data of the opportunity named earlier on the line (the ``ref`` argument)."""
    repo = _repo(ctx)
    opp_id = repo.resolve(str(ctx.params.get("ref") or ""))
    data, _ = repo.read_yaml(f"opportunities/{opp_id}.yaml")
    return data if isinstance(data, dict) else {}


def _group(ctx) -> str:
    """The command group the completed command sits in: 'contact' for 'opp contact add'."""
    parent = ctx.parent
    return parent.command.name if parent is not None and parent.parent is not None else ""


# ---------------------------------------------------------------- completers


@_quiet
def opportunities(ctx, param, incomplete: str):
    """Opportunity ids, with their names; a piece of a name or customer finds the id."""
    repo = _repo(ctx)
    ids = repo.ids()
    key = incomplete.casefold()
    matches = [i for i in ids if i.startswith(key)]
    if len(matches) > NAMES_SHOWN:
        return [(i, None) for i in matches]
    if not matches and key:
        heads = _heads(repo, ids[:SCAN_LIMIT])
        return [(i, f"{h.get('name', '')} ({h.get('customer', '')})")
                for i, h in heads.items()
                if key in h.get("name", "").casefold() or key in h.get("customer", "").casefold()]
    heads = _heads(repo, matches)
    return [(i, f"{heads[i].get('name', '')} ({heads[i].get('customer', '')})"
             if i in heads else None) for i in matches]


@_quiet
def skus(ctx, param, incomplete: str):
    """Catalog SKUs, with product names."""
    data, _ = _repo(ctx).read_yaml("catalog.yaml", required=False)
    products = _list((data or {}).get("products"))
    return _matching(((str(p["sku"]), str(p.get("name", ""))) for p in products
                      if isinstance(p, dict) and "sku" in p), incomplete)


def _stages(ctx, param, incomplete: str):
    """Stage ids, with label and probability; a label finds its id too."""
    key = incomplete.casefold()
    out = []
    for stage in _list(_settings(ctx).get("stages")):
        if not isinstance(stage, dict) or "id" not in stage:
            continue
        sid, label = str(stage["id"]), str(stage.get("label", ""))
        if sid.casefold().startswith(key) or label.casefold().startswith(key):
            out.append((sid, f"{label}, {stage.get('probability', '?')} %, "
                             f"{stage.get('kind', 'open')}"))
    return out


stages = _quiet(_stages)


def _words(key: str) -> Callable:
    @_quiet
    def complete(ctx, param, incomplete: str):
        return _matching(((str(w), None) for w in _list(_settings(ctx).get(key))), incomplete)
    complete.__doc__ = f"The {key.replace('_', ' ')} of opp.yaml."
    return complete


activity_types = _words("activity_types")
lost_reasons = _words("lost_reasons")

_ROLE_PANELS = {"contact": "contacts", "partner": "partners", "competitor": "competitors"}


@_quiet
def roles(ctx, param, incomplete: str):
    """The roles of opp.yaml for the panel of the command (contact, partner, competitor)."""
    configured = _settings(ctx).get("roles") or {}
    panel = _ROLE_PANELS.get(_group(ctx))
    lists = [configured.get(panel)] if panel else list(configured.values())
    return _matching(((str(r), None) for roles_ in lists for r in _list(roles_)), incomplete)


def _scan(field: str) -> Callable:
    @_quiet
    def complete(ctx, param, incomplete: str):
        repo = _repo(ctx)
        values = sorted({h[field] for h in _heads(repo, repo.ids()[:SCAN_LIMIT]).values()
                         if h.get(field)}, key=str.casefold)
        return _matching(((v, None) for v in values), incomplete)
    complete.__doc__ = f"Every {field} the opportunities have."
    return complete


owners = _scan("owner")
customers = _scan("customer")


@_quiet
def quotes(ctx, param, incomplete: str):
    """The quotes of the opportunity given earlier on the line, with status and total."""
    return _matching(((str(q["id"]), f"{q.get('status', 'draft')}, total {q.get('total', '')}")
                      for q in _list(_opportunity(ctx).get("quotes"))
                      if isinstance(q, dict) and "id" in q), incomplete)


@_quiet
def product_lines(ctx, param, incomplete: str):
    """The product lines of the opportunity: SKUs and line ids, with names."""
    lines = [p for p in _list(_opportunity(ctx).get("products")) if isinstance(p, dict)]
    pairs = [(str(p["sku"]), str(p.get("name", ""))) for p in lines if "sku" in p]
    pairs += [(str(p["id"]), f"{p.get('sku', '')} {p.get('name', '')}") for p in lines
              if "id" in p]
    return _matching(pairs, incomplete)


_PANELS = {"product": "products", "quote": "quotes", "contact": "contacts",
           "partner": "partners", "competitor": "competitors", "activity": "activities",
           "doc": "documents", "document": "documents", "note": "notes"}


def _describe(panel: str, item: dict) -> str:
    if panel == "activities":
        return f"{item.get('date', '')} {item.get('type', '')}: {item.get('subject', '')}"
    if panel == "notes":
        return str(item.get("text", "")).strip().splitlines()[0][:60] if item.get("text") else ""
    for key in ("name", "account", "title", "subject", "sku", "status"):
        if item.get(key):
            return str(item[key])
    return ""


@_quiet
def items(ctx, param, incomplete: str):
    """Panel item ids of the opportunity (of the command's panel, else of every panel);
    after a quote on the line, that quote's lines."""
    opp = _opportunity(ctx)
    quote = str(ctx.params.get("quote") or "")
    if quote:
        lines = next((q.get("lines") for q in _list(opp.get("quotes"))
                      if isinstance(q, dict) and str(q.get("id")) == quote), None)
        return _matching(((str(i["id"]), str(i.get("description", ""))) for i in _list(lines)
                          if isinstance(i, dict) and "id" in i), incomplete)
    panel = _PANELS.get(_group(ctx))
    panels = [panel] if panel else list(_PANELS.values())
    return _matching(((str(i["id"]), _describe(p, i)) for p in dict.fromkeys(panels)
                      for i in _list(opp.get(p)) if isinstance(i, dict) and "id" in i),
                     incomplete)


@_quiet
def currencies(ctx, param, incomplete: str):
    """The currency of opp.yaml and those the opportunities use."""
    repo = _repo(ctx)
    found = [str(_settings(ctx).get("currency", "EUR"))]
    found += sorted({h["currency"] for h in _heads(repo, repo.ids()[:SCAN_LIMIT]).values()
                     if h.get("currency")})
    return _matching(((c, None) for c in found), incomplete)


_KEYS = ["currency", "default_stage", "activity_types", "lost_reasons", "roles",
         "roles.contacts", "roles.partners", "roles.competitors", "modules", "modules.catalog",
         "modules.quotes", "stages"]


@_quiet
def config_keys(ctx, param, incomplete: str):
    """The keys of ``opp config``, with the stages of opp.yaml."""
    ids = [str(s["id"]) for s in _list(_settings(ctx).get("stages"))
           if isinstance(s, dict) and "id" in s]
    names = _KEYS + [f"stages.{i}" for i in ids]
    names += [f"stages.{i}.{f}" for i in ids for f in ("label", "probability", "kind",
                                                       "position")]
    return _matching(((n, None) for n in names), incomplete)


@_quiet
def config_items(ctx, param, incomplete: str):
    """What ``opp config remove KEY`` can remove: the items of that list, or stages."""
    key = str(ctx.params.get("key") or "").replace("-", "_").lower()
    if key == "stages":
        return _stages(ctx, param, incomplete)
    node: Any = _settings(ctx)
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return _matching(((str(v), None) for v in _list(node)), incomplete)


# ---------------------------------------------------------------- attaching

ARGUMENTS = {"ref": opportunities, "quote": quotes, "sku": skus, "stage_name": stages,
             "stage": stages, "item": items, "line": product_lines}
OPTIONS = {"--type": activity_types, "--role": roles, "--stage": stages, "--owner": owners,
           "--customer": customers, "--reason": lost_reasons, "--sku": skus,
           "--currency": currencies}


def attach(command, path: str = "") -> None:
    """Give every parameter of ``command`` and its sub-commands the completer its name
    calls for, unless it has its own or a choice type (which completes itself).
    ``--type`` means an activity type only under an activity command or in its help."""
    import click

    for param in command.params:
        if getattr(param, "_custom_shell_complete", None) is not None \
                or isinstance(param.type, click.Choice):
            continue
        if isinstance(param, click.Argument):
            completer = ARGUMENTS.get(param.name or "")
        else:
            opt = next((o for o in param.opts if o in OPTIONS), None)
            completer = OPTIONS.get(opt or "")
            if opt == "--type" and "activit" not in f"{path} {param.help or ''}".lower():
                completer = None
        if completer is not None:
            param._custom_shell_complete = completer  # what click's shell_complete= sets
    for name, sub in getattr(command, "commands", {}).items():
        attach(sub, f"{path} {name}")
