"""A quote as a document a person can send: Markdown, readable raw or rendered.

Pure text from the models (no files, no terminal): ``opp quote print`` and
``opp quote show --format markdown`` print it, in a language of ``messages.py``. User
text is escaped so that a description holding ``|`` or ``*`` cannot break the table or the emphasis.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..domain.l10n import day_human, language
from ..domain.model import Opportunity, Quote
from ..domain.money import CLASSIC, money_human, number_human
from .messages import translator

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def escape(text: str) -> str:
    """User text made literal in Markdown."""
    return _SPECIAL.sub(r"\\\1", text)


# Italian elides the article before a day read with a vowel: "dell'11 settembre", "l'8"
_ELIDED = re.compile(r"\b(del|il) (1|8|11)(?= )")


def elided(text: str, locale: str) -> str:
    """``text`` with Italian's elisions before a date ("del 11" is "dell'11")."""
    if language(locale) != "it":
        return text
    return _ELIDED.sub(lambda m: ("dell'" if m[1] == "del" else "l'") + m[2], text)


def status_words(quote: Quote, locale: str = CLASSIC) -> str:
    """'draft', 'sent on 2026-11-26', 'accepted on 2026-12-01'…; a superseded quote (R15a)
    says when it was accepted. In ``locale``'s words and dates."""
    return elided(_status_words(quote, locale), locale)


def _status_words(quote: Quote, locale: str) -> str:
    _ = translator(locale)
    if quote.status == "draft":
        return _("draft (not sent yet)")
    if quote.status == "sent":
        sent = day_human(quote.sent, locale) if quote.sent else ""
        return _("sent on {date}").format(date=sent)
    closed = day_human(quote.closed, locale) if quote.closed else ""
    if quote.status == "superseded":
        return _("superseded (accepted on {date}, then the deal was reopened to "
                 "renegotiate)").format(date=closed)
    if quote.status == "accepted":
        return _("accepted on {date}").format(date=closed)
    return _("rejected on {date}").format(date=closed)


def quote_date(quote: Quote) -> date:
    """The date a customer reads on the quote: when it was sent, else when it was made."""
    return quote.sent or quote.created


def markdown(opp: Opportunity, quote: Quote, locale: str = CLASSIC) -> str:
    """The quote as Markdown: who it is for, its lines with their totals, the total. Every
    word from the message catalogue of ``locale``'s language (``messages.py``), money,
    quantities and dates written the locale's way (en: 1,234.50 and ISO dates)."""
    from tabulate import tabulate

    _ = translator(locale)
    cur = opp.currency

    def money(value: Decimal, currency: str | None = None) -> str:
        return money_human(value, currency, locale)

    out = [f"# {_('Quote')} {quote.id}", "",
           f"- **{_('Customer')}:** {escape(opp.customer)}",
           f"- **{_('Opportunity')}:** {escape(opp.name)} ({opp.id})",
           f"- **{_('Quote')}:** " + elided(_("{quote}, dated {date}").format(
               quote=quote.id, date=day_human(quote_date(quote), locale)), locale),
           f"- **{_('Status')}:** {status_words(quote, locale)}",
           f"- **{_('Currency')}:** {cur}",
           f"- **{_('Prepared by')}:** {escape(opp.owner)}", ""]
    if quote.lines:
        rows = [[str(n), escape(line.sku) if line.sku else "", escape(line.description),
                 number_human(line.quantity, locale), money(line.unit_price),
                 f"{number_human(line.discount, locale)} %" if line.discount else "",
                 money(line.total)]
                for n, line in enumerate(quote.lines, 1)]
        rows.append(["", "", f"**{_('Total')}**", "", "", "",
                     f"**{money(quote.total, cur)}**"])
        out.append(tabulate(rows, headers=["#", _("SKU"), _("Description"), _("Qty"),
                                           _("Unit price ({currency})").format(currency=cur),
                                           _("Discount"),
                                           _("Total ({currency})").format(currency=cur)],
                            tablefmt="pipe", disable_numparse=True,
                            colalign=["right", "left", "left", "right", "right", "right",
                                      "right"]))
    else:
        out.append(f"*{_('This quote has no lines yet.')}*")
        out.extend(["", "**" + _("Total: {amount}").format(amount=money(quote.total, cur))
                    + "**"])
    out.extend(["", _("Line total = quantity × unit price × (1 − discount/100), rounded to "
                      "the cent; the total is the sum of the line totals. Amounts in "
                      "{currency}.").format(currency=cur)])
    return "\n".join(out) + "\n"
