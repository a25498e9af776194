"""Every string marked for translation on the staff's and case workers' pages has English.

The source language is Swedish; ``locales/en`` must translate every message that the web
pages, the operations and the domain can show (templates, ``intake``, ``services``, ``core``,
``reports``). A missing or empty entry fails here, naming the file and line it comes from.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.translations import LOCALES, translations

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
METHODS = [("**.py", "python"), ("**.html", "jinja2.ext:babel_extract")]
#: As ``intake.web`` sets up Jinja2. ``silent`` off: a template that does not parse fails the
#: scan instead of silently contributing no messages.
OPTIONS = {
    "**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "silent": "false"}
}
#: Folders whose messages people read in the web pages or e-mails (the bot has its own test);
#: ``intake`` holds the templates too.
FOLDERS = ("intake", "services", "core", "reports")


def marked_messages() -> dict[str | tuple[str, str], str]:
    """Every message marked in ``FOLDERS``, with the first place it is marked.

    A message of ``ngettext`` is the pair (singular, plural).
    """
    found: dict[str | tuple[str, str], str] = {}
    for folder in FOLDERS:
        extracted = extract_from_dir(
            ROOT / folder,
            METHODS,
            keywords=KEYWORDS,
            options_map=OPTIONS,
            comment_tags=(),
            strip_comment_tags=True,
        )
        for filename, line, message, _comments, _context in extracted:
            if isinstance(message, tuple):
                message = (message[0], message[1]) if message[0] else ""
            if message:
                found.setdefault(message, f"{folder}/{filename}:{line}")
    return found


def english_entries() -> dict[str, list[tuple[str, Message]]]:
    """Every entry of the English catalogues by msgid (singular), with the file it is in."""
    entries: dict[str, list[tuple[str, Message]]] = {}
    for po_file in sorted((LOCALES / "en" / "LC_MESSAGES").glob("*.po")):
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale="en")
        for message in catalog:
            if message.id:
                entries.setdefault(_singular(message.id), []).append((po_file.name, message))
    return entries


def test_the_scan_finds_messages_in_templates_and_code() -> None:
    found = marked_messages()
    assert "Intresseanmälan" in found and "Teamet finns inte." in found
    assert "Prövotid" in found  # a template in a sub-folder (intake/templates/team/admin)
    assert "Kontot är ändrat." in found  # i18n.gettext(...) in intake/admin.py
    assert "Okänt team: {team}" in found  # N_(...) in services
    assert ("%(num)d remiss", "%(num)d remisser") in found  # ngettext in a template


def test_every_marked_message_has_an_english_translation() -> None:
    entries = english_entries()
    missing = {
        message: where
        for message, where in marked_messages().items()
        if not _translated(message, entries) and not _same_in_english(_singular(message))
    }
    listing = "".join(f"\n  {where}: {message!r}" for message, where in missing.items())
    assert missing == {}, f"{len(missing)} messages lack English in core/data/locales/en:{listing}"


def test_no_english_entry_is_empty_or_fuzzy() -> None:
    """An empty or fuzzy entry is left out at run time, so the page shows Swedish."""
    unusable = [
        (name, message.id)
        for found in english_entries().values()
        for name, message in found
        if not _usable(message)
    ]
    assert unusable == []


def test_a_message_in_several_english_catalogues_has_one_translation() -> None:
    """The catalogues are merged; which copy wins must not matter."""
    english = translations("en")
    disagreeing = {}
    for msgid, found in english_entries().items():
        strings = {_strings(message) for _name, message in found}
        if len(strings) > 1:
            disagreeing[msgid] = [(name, message.string) for name, message in found]
        elif not isinstance(found[0][1].id, tuple):
            assert english.gettext(msgid) == found[0][1].string
    assert disagreeing == {}


def test_english_keeps_the_placeholders() -> None:
    """``{date}``, ``%(num)d`` and ``%%`` come through as in the Swedish; no stray ``%``."""
    wrong = []
    for found in english_entries().values():
        for name, message in found:
            source = message.id[-1] if isinstance(message.id, tuple) else message.id
            for text in _strings(message):
                if text and (
                    _placeholders(text) != _placeholders(source)
                    or _stray_percent(text) != _stray_percent(source)
                ):
                    wrong.append((name, source, text))
    assert wrong == []


def _singular(msgid: str | tuple[str, ...]) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def _strings(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def _usable(message: Message) -> bool:
    """As ``write_mo`` compiles it: not fuzzy, and every plural form written."""
    return not message.fuzzy and all(_strings(message))


def _translated(
    message: str | tuple[str, str], entries: dict[str, list[tuple[str, Message]]]
) -> bool:
    """``message`` has a usable English entry (the same kind: plural for ``ngettext``)."""
    plural = isinstance(message, tuple)
    return any(
        _usable(entry)
        and isinstance(entry.id, tuple) == plural
        and (not plural or entry.id[1] == message[1])
        for _name, entry in entries.get(_singular(message), [])
    )


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{[^{}]*\}|%\(\w+\)[sdif]|%%", text))


def _stray_percent(text: str) -> bool:
    return "%" in re.sub(r"%\(\w+\)[sdif]|%%", "", text)


def _same_in_english(message: str) -> bool:
    """Messages that need no entry: placeholders only, or words that English shares."""
    letters = [c for c in message.replace("{", " {").split() if not c.startswith("{")]
    return not letters or message in SAME_IN_ENGLISH


#: Only words that read the same in English in every use. Not "Team": in Swedish it is also
#: the plural (the admin page "Team" lists teams), so it needs its own catalogue entry.
SAME_IN_ENGLISH = frozenset({"OK", "Status", "Samverkan"})
