"""Relations (R1): contacts at the customer, partners, competitors. Read-only on a closed
opportunity (R17)."""

from __future__ import annotations

import click

from .app import State, cli, pass_state
from .panels import (
    TextArgsCommand,
    add_item,
    edit_item,
    item_fields,
    list_and_remove,
)
from .params import LINE, WORD


def create_option(f):
    return click.option(
        "--create/--no-create", default=None,
        help="--create makes a new account even when names are close to this one; "
             "--no-create refuses when no account matches.")(f)


@cli.group()
def contact() -> None:
    """Contacts: referents at the customer, each with a role.

    Roles come from opp.yaml (roles.contacts). A closed opportunity's contacts
    are read-only until it is reopened.

    \b
    Example:  opp contact list 4k7q
    """


list_and_remove(contact, "contact", "contacts")


@contact.command("add", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("name", type=LINE)
@click.option("--role", required=True, type=WORD, help="A role of opp.yaml's roles.contacts.")
@click.option("--email", type=LINE, help="E-mail address.")
@click.option("--phone", type=LINE, help="Phone number.")
@pass_state
def contact_add(state: State, ref: str, name: str, role: str, email, phone) -> None:
    """Add a contact; prints its id alone on stdout.

    When the deal's customer is an account, NAME is one of its people (by name,
    ignoring case), or a new person added to the account in the same commit
    (stderr says so); the contact keeps the person's id.
    A person already among the deal's contacts is refused, whatever the role.

    \b
    Example:  opp contact add 4k7q "Jane Doe" --role decision-maker --email jane@acme.example
    """
    add_item(state, ref, "contacts",
             item_fields(name=name, role=role, email=email, phone=phone), "contact-add")


@contact.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--name", type=LINE, help="New name.")
@click.option("--role", type=WORD, help="New role.")
@click.option("--email", help="New e-mail ('none' clears it).")
@click.option("--phone", help="New phone ('none' clears it).")
@pass_state
def contact_edit(state: State, ref: str, item: str, name, role, email, phone) -> None:
    """Change a contact's name, role, e-mail or phone.

    \b
    Example:  opp contact edit 4k7q x3m --role buyer --phone none
    """
    edit_item(state, ref, item, "contacts",
              item_fields(name=name, role=role, email=email, phone=phone), "contact-edit")


@cli.group()
def partner() -> None:
    """Partners: accounts that supply or support the sale, each with a role.

    Roles come from opp.yaml (roles.partners). A closed opportunity's partners
    are read-only until it is reopened.

    \b
    Example:  opp partner list 4k7q --format json
    """


list_and_remove(partner, "partner", "partners")


@partner.command("add", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("account", type=LINE)
@click.option("--role", required=True, type=WORD, help="A role of opp.yaml's roles.partners.")
@create_option
@pass_state
def partner_add(state: State, ref: str, account: str, role: str, create) -> None:
    """Add a partner; prints its id alone on stdout.

    ACCOUNT names an account by id, id prefix, name or alias (case, punctuation and
    legal forms ignored), as `opp new --customer` does: a new name creates the
    account in the same commit, and stderr says so; names close to it are refused.
    A deal lists an account once: one already among its partners is refused,
    whatever the role or spelling.

    \b
    Example:  opp partner add 4k7q "Globex" --role reseller
    """
    add_item(state, ref, "partners", item_fields(account=account, role=role), "partner-add",
             create)


@partner.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--account", type=LINE, help="New account: id, name or alias (a new name "
              "creates it).")
@click.option("--role", type=WORD, help="New role.")
@create_option
@pass_state
def partner_edit(state: State, ref: str, item: str, account, role, create) -> None:
    """Change a partner's account or role.

    \b
    Example:  opp partner edit 4k7q p2 --role integrator
    """
    edit_item(state, ref, item, "partners", item_fields(account=account, role=role),
              "partner-edit", create)


@cli.group()
def competitor() -> None:
    """Competitors: companies offering similar products.

    Roles, optional, come from opp.yaml (roles.competitors). A closed
    opportunity's competitors are read-only until it is reopened.

    \b
    Example:  opp competitor list 4k7q
    """


list_and_remove(competitor, "competitor", "competitors")


@competitor.command("add", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("account", type=LINE)
@click.option("--role", type=WORD, help="A role of opp.yaml's roles.competitors.")
@click.option("--products", type=LINE, help="What they offer.")
@click.option("--notes", help="Free notes (several lines allowed).")
@create_option
@pass_state
def competitor_add(state: State, ref: str, account: str, role, products, notes,
                   create) -> None:
    """Add a competitor; prints its id alone on stdout.

    ACCOUNT names an account as for `opp partner add`: a new name creates the
    account in the same commit, and stderr says so; names close to it are refused.
    An account already among the deal's competitors is refused.

    \b
    Example:  opp competitor add 4k7q "Initech" --role incumbent --products "CRM Suite"
    """
    add_item(state, ref, "competitors",
             item_fields(account=account, role=role, products=products, notes=notes),
             "competitor-add", create)


@competitor.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--account", type=LINE, help="New account: id, name or alias (a new name "
              "creates it).")
@click.option("--role", help="New role ('none' clears it).")
@click.option("--products", help="What they offer ('none' clears it).")
@click.option("--notes", help="Free notes ('none' clears them).")
@create_option
@pass_state
def competitor_edit(state: State, ref: str, item: str, account, role, products, notes,
                    create) -> None:
    """Change a competitor's account, role, products or notes.

    \b
    Example:  opp competitor edit 4k7q c9 --notes "cut prices by 20 % in May"
    """
    edit_item(state, ref, item, "competitors",
              item_fields(account=account, role=role, products=products, notes=notes),
              "competitor-edit", create)
