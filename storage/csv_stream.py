"""CSV records read from a file line by line, for the import file (INTERFACES.md, "Import file").

The file is read in binary, one line at a time, so memory stays flat however long it is. Each
line is decoded as UTF-8 on its own (a line break is never part of a multi-byte character), so
a byte that is not UTF-8 is reported with its line and the column holding it. A small scanner
follows the quotes the way the :mod:`csv` module does, so a record whose quote opens and never
closes is reported at the line where that quote starts, not at the end of the file.

Values from the file are shown in messages through :func:`shown`: control characters escaped
(``\\x1b``), never raw, and long values cut.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from core.i18n import N_

#: The longest line read at once; no valid import line comes near it (a field is at most
#: the csv module's 131 072 characters).
MAX_LINE_BYTES = 8 * 1024 * 1024

_START, _FIELD, _QUOTED, _QUOTE_IN_QUOTED = range(4)


def shown(value: str, limit: int = 40) -> str:
    """``value`` safe to print: control and other unprintable characters escaped, cut at limit."""
    cut = value[:limit]
    text = cut if cut.isprintable() else "".join(_escaped_char(c) for c in cut)
    return text + "…" if len(value) > limit else text


def _escaped_char(char: str) -> str:
    return char if char.isprintable() else repr(char)[1:-1]


class CsvFileError(Exception):
    """The file cannot be read as CSV at ``line``, in the field numbered ``field`` (from 0)."""

    def __init__(self, line: int, field: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.field = field
        self.reason = reason


@dataclass
class _Quotes:
    """Where the reader is in a record: the field's number and whether a quote is open."""

    state: int = _START
    field: int = 0
    quote_line: int = 0
    quote_field: int = 0

    def feed(self, text: str, line: int) -> None:
        """Follow one line (with its line break) as :mod:`csv`'s default dialect does."""
        body = text.rstrip("\r\n")
        if self.state in (_START, _FIELD) and '"' not in body:
            self.field += body.count(",")
            self.state = _FIELD if body and not body.endswith(",") else _START
        else:
            for char in body:
                self._step(char, line)
        if len(body) < len(text) and self.state != _QUOTED:
            self.state, self.field = _START, 0  # the record ends with this line

    def _step(self, char: str, line: int) -> None:
        state = self.state
        if state == _QUOTED:
            self.state = _QUOTE_IN_QUOTED if char == '"' else _QUOTED
        elif char == ",":
            self.state, self.field = _START, self.field + 1
        elif state == _START and char == '"':
            self.state, self.quote_line, self.quote_field = _QUOTED, line, self.field
        elif state == _QUOTE_IN_QUOTED and char == '"':
            self.state = _QUOTED
        else:
            self.state = _FIELD

    def copy(self) -> _Quotes:
        return _Quotes(self.state, self.field, self.quote_line, self.quote_field)


class CsvRecords:
    """The records of a CSV file opened in binary, each with the line it starts on.

    Iterating raises :class:`CsvFileError` for a byte that is not UTF-8, a line too long, an
    unclosed quote (at the line where it opens) or anything else :mod:`csv` cannot read.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.line = 0
        self.quotes = _Quotes()
        self.at_end = False

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        lines = self._lines()
        reader = csv.reader(lines)
        while True:
            start = self.line + 1
            try:
                values = next(reader, None)
            except csv.Error as failed:
                self._raise_unclosed_quote(lines)
                reason = N_("filen kan inte läsas som CSV ({error})").format(error=failed)
                raise CsvFileError(start, None, reason) from None
            if self.at_end and self.quotes.state == _QUOTED:
                self._raise_unclosed_quote(lines)
            if values is None:
                return
            yield start, values

    def _raise_unclosed_quote(self, lines: Iterator[str]) -> None:
        """CsvFileError at the opening quote when the file ends inside a quoted value."""
        if self.quotes.state != _QUOTED:
            return
        for _ in lines:  # read on: the quote may still close (a value over the size limit)
            pass
        if self.quotes.state == _QUOTED:
            reason = N_("citattecknet som börjar här stängs aldrig")
            raise CsvFileError(self.quotes.quote_line, self.quotes.quote_field, reason)

    def _lines(self) -> Iterator[str]:
        while raw := self.stream.readline(MAX_LINE_BYTES):
            if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
                reason = N_("raden är längre än {size} MB").format(size=MAX_LINE_BYTES >> 20)
                raise CsvFileError(self.line + 1, None, reason)
            for part in raw.splitlines(keepends=True):
                self.line += 1
                text = self._decode(part)
                self.quotes.feed(text, self.line)
                yield text
        self.at_end = True

    def _decode(self, part: bytes) -> str:
        """The line's text; CsvFileError naming the field that holds a byte that is not UTF-8."""
        try:
            text = part.decode("utf-8")
        except UnicodeDecodeError as bad:
            before = part[: bad.start].decode("utf-8", errors="replace")
            if self.line == 1:
                before = before.removeprefix("\ufeff")
            quotes = self.quotes.copy()
            quotes.feed(before, self.line)
            reason = N_(
                "inte UTF-8 (byte 0x{byte:02X}, tecken {position} på raden); "
                "spara filen som CSV UTF-8"
            ).format(byte=part[bad.start], position=len(before) + 1)
            raise CsvFileError(self.line, quotes.field, reason) from None
        return text.removeprefix("\ufeff") if self.line == 1 else text


def column_name(names: Sequence[str], field: int | None) -> str:
    """The header's name of the field numbered ``field``, or ``–``."""
    if field is None or field >= len(names):
        return "–"
    return shown(names[field].strip()) or "–"
