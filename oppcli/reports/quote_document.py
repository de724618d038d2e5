"""A quote as a document a person can send: Markdown, readable raw or rendered.

Pure text from the models (no files, no terminal): ``opp quote print`` and
``opp quote show --format markdown`` print it. User text is escaped so that a
description holding ``|`` or ``*`` cannot break the table or the emphasis.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..domain.model import Opportunity, Quote
from ..domain.money import money_human, plain

if TYPE_CHECKING:
    from datetime import date

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def escape(text: str) -> str:
    """User text made literal in Markdown."""
    return _SPECIAL.sub(r"\\\1", text)


def status_words(quote: Quote) -> str:
    """'draft', 'sent on 2026-11-26', 'accepted on 2026-12-01'…; a superseded quote (R15a)
    says when it was accepted."""
    if quote.status == "draft":
        return "draft (not sent yet)"
    if quote.status == "sent":
        return f"sent on {quote.sent}"
    if quote.status == "superseded":
        return (f"superseded (accepted on {quote.closed}, then the deal was reopened to "
                "renegotiate)")
    return f"{quote.status} on {quote.closed}"


def quote_date(quote: Quote) -> date:
    """The date a customer reads on the quote: when it was sent, else when it was made."""
    return quote.sent or quote.created


def markdown(opp: Opportunity, quote: Quote) -> str:
    """The quote as Markdown: who it is for, its lines with their totals, the total."""
    from tabulate import tabulate

    cur = opp.currency
    out = [f"# Quote {quote.id}", "",
           f"- **Customer:** {escape(opp.customer)}",
           f"- **Opportunity:** {escape(opp.name)} ({opp.id})",
           f"- **Quote:** {quote.id}, dated {quote_date(quote)}",
           f"- **Status:** {status_words(quote)}",
           f"- **Currency:** {cur}",
           f"- **Prepared by:** {escape(opp.owner)}", ""]
    if quote.lines:
        rows = [[str(n), escape(line.sku) if line.sku else "", escape(line.description),
                 plain(line.quantity), money_human(line.unit_price),
                 f"{plain(line.discount)} %" if line.discount else "",
                 money_human(line.total)]
                for n, line in enumerate(quote.lines, 1)]
        rows.append(["", "", "**Total**", "", "", "", f"**{money_human(quote.total, cur)}**"])
        out.append(tabulate(rows, headers=["#", "SKU", "Description", "Qty",
                                           f"Unit price ({cur})", "Discount",
                                           f"Total ({cur})"],
                            tablefmt="pipe", disable_numparse=True,
                            colalign=["right", "left", "left", "right", "right", "right",
                                      "right"]))
    else:
        out.append("*This quote has no lines yet.*")
        out.extend(["", f"**Total: {money_human(quote.total, cur)}**"])
    out.extend(["", "Line total = quantity × unit price × (1 − discount/100), rounded to the "
                    f"cent; the total is the sum of the line totals. Amounts in {cur}."])
    return "\n".join(out) + "\n"
