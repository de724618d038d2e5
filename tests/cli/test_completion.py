"""Shell completion: ids with names, SKUs, stages, quotes, items, options; never noisy."""

import pytest
from click.shell_completion import ShellComplete

from oppcli.cli import cli
from oppcli.cli.completion import ARGUMENTS, OPTIONS, head_fields


def complete(args: str, incomplete: str = "") -> list[tuple[str, str]]:
    """(value, help) pairs for `opp ARGS INCOMPLETE<TAB>`, via click's ShellComplete API."""
    items = ShellComplete(cli, {}, "opp", "_OPP_COMPLETE").get_completions(args.split(),
                                                                         incomplete)
    return [(i.value, i.help) for i in items]


def values(args: str, incomplete: str = "") -> list[str]:
    return [v for v, _ in complete(args, incomplete)]


def shell(crm, words: str, cword: int, kind: str = "bash") -> str:
    """What the shell script receives: run opp as the script does, with _OPP_COMPLETE."""
    r = crm(env={"_OPP_COMPLETE": f"{kind}_complete", "COMP_WORDS": words,
                 "COMP_CWORD": str(cword)})
    assert r.stderr == ""
    return r.stdout


@pytest.fixture
def deals(crm):
    a = crm.new("Acme renewal")
    crm("add-product", a, "SRV-01", "--qty", "2")
    b = crm.new("Globex: pilot", "--customer", "Globex")
    return a, b


def test_opportunity_ids_with_their_names(crm, deals):
    a, b = deals
    assert sorted(complete("show")) == sorted([(a, "Acme renewal (Acme Corp)"),
                                               (b, "Globex: pilot (Globex)")])
    assert values("show", a[:3]) == [i for i in sorted(deals) if i.startswith(a[:3])]
    assert values("add-product", a) == [a]
    assert values("stage") == sorted(deals)
    # a piece of a name or customer finds the id when no id starts with it
    assert values("show", "globex") == [b] and values("show", "RENEW") == [a]


def test_opp_note_completes_its_commands_and_the_ids_of_its_short_form(crm, deals):
    a, b = deals
    assert values("note") == ["add", "edit", "list", "remove", *sorted(deals)]
    assert values("note", "li") == ["list"]
    assert values("note", a[:4]) == [i for i in sorted(deals) if i.startswith(a[:4])]
    assert values("note", "globex") == [b]
    assert values("note add") == sorted(deals)


def test_ids_through_the_shell_protocol(crm, deals):
    a, b = deals
    out = shell(crm, "opp show ", 2)
    assert sorted(out.splitlines()) == sorted([f"plain,{a}", f"plain,{b}"])
    out = shell(crm, f"opp show {a[:2]}", 2, "zsh")
    assert f"plain\n{a}\nAcme renewal (Acme Corp)\n" in out
    out = shell(crm, "opp show ", "", "fish")  # fish passes the incomplete word itself
    assert f"plain,{b}\tGlobex: pilot (Globex)" in out.splitlines()


def test_skus_stages_and_product_lines(crm, deals):
    a, _ = deals
    assert complete(f"add-product {a}") == [("CONS", "Consulting day"), ("LIC-10", "Licence pack"),
                                            ("SRV-01", "Support plan")]
    assert values(f"add-product {a}", "s") == ["SRV-01"]
    assert values(f"stage {a}") == ["prospecting", "qualification", "proposal", "negotiation",
                                    "closed-won", "closed-lost"]
    assert complete(f"stage {a}", "Neg") == [("negotiation", "Negotiation, 75 %, open")]
    assert values("list --stage", "pro") == ["prospecting", "proposal"]
    assert values(f"reopen {a} --stage", "qu") == ["qualification"]
    line = crm.json("show", a)["products"][0]["id"]
    assert values(f"remove-product {a}") == ["SRV-01", line]
    assert "SRV-01" in shell(crm, f"opp update-product {a} S", 3)


def test_owners_and_customers(crm, deals):
    crm.new("Other", "--owner", "Zoe")
    assert values("list --customer") == ["Acme Corp", "Globex"]
    assert values("list --owner", "z") == ["Zoe"]
    assert values("new Deal --currency") == ["EUR"]


def test_quotes_items_types_and_roles_by_name(crm, deals, monkeypatch):
    """Commands other helpers add get completion by following the naming convention."""
    import click

    from oppcli.cli.completion import attach

    a, _ = deals
    path = crm.file(a)
    path.write_text(path.read_text()
                    .replace("quotes: []", "quotes:\n- id: q1w2e3\n  status: sent\n"
                             "  created: 2026-11-01\n  lines:\n  - id: l1l1l1\n"
                             "    description: Setup\n    quantity: 1\n    unit_price: 0.00\n"
                             "    total: 0.00\n  total: 0.00")
                    .replace("contacts: []", "contacts:\n- id: c1c1c1\n  name: Wile E.\n"
                             "  role: buyer")
                    .replace("activities: []", "activities:\n- id: a1a1a1\n  type: call\n"
                             "  subject: Kick-off\n  date: 2026-11-02"))
    crm.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "panels")

    group = click.Group("probe")
    contact = click.Group("contact")
    activity = click.Group("activity")

    @contact.command("remove")
    @click.argument("ref", metavar="ID")
    @click.argument("item", metavar="ITEM")
    @click.option("--role")
    def contact_remove(ref, item, role):
        """x"""

    @activity.command("add")
    @click.argument("ref", metavar="ID")
    @click.option("--type", "type_")
    def activity_add(ref, type_):
        """x"""

    @group.command("send")
    @click.argument("ref", metavar="ID")
    @click.argument("quote", metavar="QUOTE")
    @click.option("--type", help="An export type.")
    def send(ref, quote, type):
        """x"""

    @group.command("remove-line")
    @click.argument("ref", metavar="ID")
    @click.argument("quote", metavar="QUOTE")
    @click.argument("item", metavar="ITEM")
    def remove_line(ref, quote, item):
        """x"""

    group.add_command(contact)
    group.add_command(activity)
    attach(group)
    monkeypatch.setattr(cli, "commands", {**cli.commands, "probe": group})  # for this test
    assert complete(f"probe send {a}") == [("q1w2e3", "sent, total 0.00")]
    assert complete(f"probe contact remove {a}") == [("c1c1c1", "Wile E.")]
    assert values("probe contact remove x --role") == [
        "decision-maker", "influencer", "user", "technical", "buyer", "other"]
    assert values(f"probe activity add {a} --type", "c") == ["call"]
    assert values(f"probe send {a} q1w2e3 --type") == []  # not an activity type
    assert complete(f"probe remove-line {a} q1w2e3") == [("l1l1l1", "Setup")]


def test_every_named_parameter_of_opp_completes():
    import click

    def walk(command):
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    missing = []
    for command in walk(cli):
        for param in command.params:
            if isinstance(param.type, click.Choice):
                continue
            wanted = ARGUMENTS.get(param.name) if isinstance(param, click.Argument) else \
                next((OPTIONS[o] for o in param.opts if o in OPTIONS and o != "--type"), None)
            if wanted is not None and param._custom_shell_complete is None:
                missing.append((command.name, param.name))
    assert missing == []


def test_no_suggestions_and_no_noise_outside_a_repo_or_in_a_broken_one(crm, deals, tmp_path,
                                                                       monkeypatch):
    a, _ = deals
    (crm.root / "opp.yaml").write_text("stages: [")
    assert values(f"stage {a}") == [] and values("list --stage") == []
    assert shell(crm, f"opp stage {a} ", 3).strip() == ""
    crm.file(a).write_text("\x00garbage")
    assert shell(crm, "opp show ", 2).count("\n") == 2  # ids are file names
    assert values(f"remove-product {a}") == []  # its file is broken
    monkeypatch.chdir(tmp_path)
    assert values("show") == [] and shell(crm, "opp show ", 2).strip() == ""
    assert values("--repo /nowhere show") == []
    assert values(f"--repo {crm.root} show") == sorted(deals)


def test_head_fields_read_names_cheaply():
    text = ("# yaml-language-server: $schema=../.opp/schemas/opportunity.schema.json\n"
            "id: 4k7qz2ma\nname: 'Acme: ''the'' deal'\ncustomer: \"Acme\\tCorp\"\n"
            "stage: proposal\nproducts:\n- id: p1\n  name: not this\nowner: Al\n")
    assert head_fields(text) == {"name": "Acme: 'the' deal", "customer": "Acme\tCorp",
                                 "stage": "proposal", "owner": "Al"}


def test_config_keys_and_values(crm):
    assert "stages.proposal.probability" in values("config set", "stages.pro")
    assert values("config get", "mod") == ["modules", "modules.catalog", "modules.quotes"]
    assert values("config remove lost_reasons", "n") == ["no budget", "no decision"]
    assert values("config remove stages", "closed") == ["closed-won", "closed-lost"]
    assert values("config add stages x --after", "neg") == ["negotiation"]
