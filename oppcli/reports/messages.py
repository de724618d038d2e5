"""Message catalogues: the words of what opp writes for a customer (the quote document)
and of a new repo's stages, per language, from the gettext ``.po`` files in
``locales/``. English is the source text; ``it.po`` translates it; another language is
one more ``.po`` file (copy ``it.po``, translate each ``msgstr``), nothing else.

The ``.po`` text is compiled in memory by Babel when first used: no binary ``.mo`` is
kept in the project.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from ..domain.l10n import language

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
SOURCE_LANGUAGE = "en"


def languages() -> list[str]:
    """The languages opp writes documents in: English and every ``locales/*.po``."""
    return sorted({SOURCE_LANGUAGE, *(p.stem for p in LOCALES_DIR.glob("*.po"))})


def has_language(locale: str) -> bool:
    """Whether a catalogue speaks the language of ``locale`` (``it_CH`` -> ``it``)."""
    return language(locale) in languages()


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalogue of ``locale``'s language; English (the msgids) when there is none."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = LOCALES_DIR / f"{language(locale)}.po"
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=language(locale))
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def translator(locale: str):
    """``_(text)`` for ``locale``: the catalogue's words, the English text without one."""
    return translations(locale).gettext
