"""Domain errors that carry the message a person should see.

Messages are Swedish source strings (gettext msgids, marked with :func:`core.i18n.N_`);
the web layer and the bot translate them into the person's language before showing them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Gettext = Callable[[str], str]


class DomainError(Exception):
    """A rule of the domain was broken; ``message`` tells the person what to do.

    ``field`` names the form field or survey question the message belongs to, if any;
    ``params`` are substituted into the translated message with ``str.format``.
    """

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params

    def render(self, gettext: Gettext | None = None) -> str:
        """The message translated with ``gettext`` (identity by default), params filled in."""
        text = gettext(self.message) if gettext else self.message
        return text.format(**self.params) if self.params else text


class FormErrors(DomainError):
    """Several field errors at once: ``errors`` maps field name to a :class:`DomainError`."""

    def __init__(self, errors: Mapping[str, DomainError]) -> None:
        super().__init__("Det finns fel i formuläret.")
        self.errors = dict(errors)


def field_error(field: str, message: str, **params: object) -> FormErrors:
    """A form error for one field."""
    return FormErrors({field: DomainError(message, field=field, **params)})


class NotFound(DomainError):
    """The thing asked for does not exist, or is not visible to the asker."""


class NotAllowed(DomainError):
    """The action is not allowed in the current state or for the current person."""
