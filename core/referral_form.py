"""The referral form (*remiss*): its fields, their checks and the draft they give.

:func:`parse_referral_form` reads these HTML field names; a field marked *multi*
may be sent several times (check boxes), ``ja``/``nej`` fields take exactly those values, and a
check box sends ``ja`` when ticked:

=========================== ============================================================
``team``                    the team's code (one of ``team_codes``)
``referrer_type``           ``remittent`` (a case worker refers someone) or ``egen`` (the
                            person refers themself: *egenanmälan*). A self-referral has no
                            referrer fields (they are ignored), no protected identity, no
                            contact through a referrer, and its consents are ``digital``
``referrer_org``            the case worker's organisation: :data:`CASE_WORKER_ORGS`
``referrer_name``           the case worker's name
``referrer_email``          the case worker's work e-mail (not a private mailbox)
``referrer_phone``          the case worker's phone number
``protected_identity``      check box: the person has *skyddade personuppgifter*; then the
                            person's name, personnummer and phone must be left empty and
                            the team makes contact through the referrer
``person_name``             the person's name
``personnummer``            personnummer or samordningsnummer, 10 or 12 digits
``personnummer_confirmed``  check box: a 10-digit number whose century gives an age outside
                            :data:`WORKING_AGE` is right (asked for only then)
``person_phone``            the person's phone; needed when contact is by phone or SMS
``person_email``            optional: the person's e-mail address (survey invitations by e-mail)
``contact_channel``         how the team contacts the person, a ``CONTACT_CHANNELS`` code
``language``                free text, the person's preferred language, e.g. "arabiska"
``interpreter``             ``ja``/``nej``: an interpreter is needed
``gender``                  optional ``GENDERS`` code; by default from the personnummer
                            (``annat`` with protected identity)
``birth_year``              optional, only with protected identity
``income_source``           an ``INCOME_SOURCES`` code (``okand`` when not known)
``contacts``                multi: ``af``, ``fk``, ``region``, ``kommun``: current contacts
``help_wanted``             what the person wants help with (required)
``practical_needs``         optional: practical needs and adjustments
``consent_sharing_parties`` multi, ``PARTIES`` codes the person allows sharing with; may be none
``consent_sharing_info``    multi, :data:`core.consent.INFORMATION_KINDS` codes
``consent_follow_up``       ``ja``/``nej``: consent to follow-up and statistics
``consent_method``          ``paper`` or ``verbal`` (:data:`CASE_WORKER_CONSENT_METHODS`);
                            needed when a consent is given; ``digital`` for a self-referral
``consent_confirmed``       check box: the case worker confirms the person has seen the texts
=========================== ============================================================

Text is accepted as written (the web layer escapes it) but trimmed, normalised to NFC and
limited to :data:`MAX_LENGTHS`; control characters are refused, never silently removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from core.codes import (
    CONSENT_METHODS,
    CONTACT_CHANNELS,
    GENDERS,
    INCOME_SOURCES,
    PARTIES,
    REFERRERS,
)
from core.consent import INFORMATION_KINDS, ConsentChoices
from core.errors import DomainError, FormErrors
from core.i18n import N_
from core.personnummer import (
    EARLIEST_BIRTH_YEAR,
    Personnummer,
    age_on,
    has_century,
    parse_personnummer,
)

#: The characters of Unicode's categories Cc (control) and Cs (surrogate): one search, not a
#: category lookup per character.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same, but for line breaks (``\n``) and tabs, which multi-line fields allow.
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str, *, field: str, max_length: int, multiline: bool = False) -> str:
    """``value`` trimmed and NFC-normalised; DomainError for control characters or over-length.

    Line breaks are read as ``\\n``; they and tabs are allowed only when ``multiline``.
    """
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if (_CONTROL_BUT_LINES if multiline else _CONTROL).search(text):
        message = N_("Texten innehåller osynliga styrtecken. Ta bort dem och försök igen.")
        raise DomainError(message, field=field)
    if len(text) > max_length:
        message = N_("Texten är för lång. Skriv högst {max_length} tecken (nu {length}).")
        raise DomainError(message, field=field, max_length=max_length, length=len(text))
    return text


#: The longest text accepted in each referral-form field (per value for multi fields).
MAX_LENGTHS: Mapping[str, int] = {
    "team": 50,
    "referrer_type": 20,
    "referrer_org": 50,
    "referrer_name": 200,
    "referrer_email": 254,
    "referrer_phone": 40,
    "protected_identity": 10,
    "person_name": 200,
    "personnummer": 30,
    "personnummer_confirmed": 10,
    "person_phone": 40,
    "person_email": 254,
    "contact_channel": 50,
    "language": 100,
    "interpreter": 10,
    "gender": 20,
    "birth_year": 10,
    "income_source": 50,
    "contacts": 50,
    "help_wanted": 3000,
    "practical_needs": 2000,
    "consent_sharing_parties": 50,
    "consent_sharing_info": 50,
    "consent_follow_up": 10,
    "consent_method": 20,
    "consent_confirmed": 10,
}
#: The referral form's field names, in the order the form shows them.
FORM_FIELDS = tuple(MAX_LENGTHS)
MULTILINE_FIELDS = frozenset({"help_wanted", "practical_needs"})
#: Who fills in the form: a case worker (*remittent*) or the person (*egenanmälan*).
REFERRER_TYPES = ("remittent", "egen")
#: The organisations a case worker can choose (self-referral is its own path).
CASE_WORKER_ORGS = tuple(code for code in REFERRERS if code != "egen")
#: How a case worker records consent; ``digital`` is the person's own, in a self-referral.
CASE_WORKER_CONSENT_METHODS = tuple(code for code in CONSENT_METHODS if code != "digital")
#: The ages the teams work with; a 10-digit personnummer outside them must be confirmed.
WORKING_AGE = (16, 64)
#: Contact channels that need the person's phone number.
PHONE_CHANNELS = frozenset({"telefon", "sms"})
#: Private mailboxes refused as the referrer's work e-mail (replies may concern the person).
PRIVATE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.se",
        "outlook.com",
        "live.se",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.se",
        "icloud.com",
        "me.com",
        "protonmail.com",
        "proton.me",
    }
)
#: An address whose local part has no characters with a meaning in mail headers (``,<>"();:``).
_EMAIL = re.compile(
    r"[\w.!#$%&'*+/=?^`{|}~-]+@(?P<domain>(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,})"
)
_PHONE = re.compile(r"\+?[0-9 ()-]+", re.ASCII)


@dataclass(frozen=True)
class Referrer:
    """The case worker (*remittent*) who sends the referral."""

    org: str
    name: str = field(repr=False)
    email: str = field(repr=False)
    phone: str = field(repr=False)


@dataclass(frozen=True)
class Person:
    """The person referred; ``name``, ``personnummer`` and ``phone`` are None when not recorded.

    With protected identity none of them is recorded and ``contact_channel`` is
    ``via_remittent``; ``birth_year`` is set only with protected identity (if given).
    """

    protected_identity: bool
    name: str | None = field(repr=False)
    personnummer: Personnummer | None
    phone: str | None = field(repr=False)
    contact_channel: str
    language: str
    needs_interpreter: bool
    gender: str
    birth_year: int | None
    #: Optional; where the team may send survey invitations (None with protected identity).
    email: str | None = field(default=None, repr=False)

    @property
    def birth_date(self) -> date | None:
        """The birth date from the personnummer, None without one."""
        return self.personnummer.birth_date if self.personnummer else None


@dataclass(frozen=True)
class ReferralDraft:
    """A checked referral form, ready to be stored; see the module docstring for the fields.

    :func:`core.consent.consent_drafts` turns ``consent`` into the consent records.
    """

    team: str
    referrer: Referrer
    person: Person
    income_source: str
    contacts: tuple[str, ...]
    help_wanted: str = field(repr=False)
    practical_needs: str = field(repr=False)
    consent: ConsentChoices


def parse_referral_form(
    form: Mapping[str, str | list[str]], *, team_codes: Collection[str], today: date
) -> ReferralDraft:
    """The referral in a submitted form; :class:`FormErrors` with one message per wrong field.

    Errors are keyed by field name in the order of :data:`FORM_FIELDS`; fields not in the form
    (such as a CSRF token) are ignored.
    """
    reader = _FormReader(form)
    team = reader.choice("team", team_codes, N_("Välj vilket team remissen gäller."))
    message = N_("Välj om du är handläggare eller anmäler dig själv.")
    self_referral = reader.choice("referrer_type", REFERRER_TYPES, message) == "egen"
    draft = ReferralDraft(
        team=team,
        referrer=_read_referrer(reader, self_referral=self_referral),
        person=_read_person(reader, today, self_referral=self_referral),
        income_source=reader.choice(
            "income_source",
            INCOME_SOURCES,
            N_("Välj personens försörjning i dag. Välj ”Okänd” om du inte vet."),
        ),
        contacts=reader.choices("contacts", PARTIES),
        help_wanted=reader.text("help_wanted", N_("Beskriv vad personen vill ha hjälp med.")),
        practical_needs=reader.text("practical_needs"),
        consent=_read_consent(reader, self_referral=self_referral),
    )
    if reader.errors:
        raise FormErrors(
            {name: reader.errors[name] for name in FORM_FIELDS if name in reader.errors}
        )
    return draft


class _FormReader:
    """Reads a submitted form field by field and keeps the first error of each field."""

    def __init__(self, form: Mapping[str, str | list[str]]) -> None:
        self._form = form
        self.errors: dict[str, DomainError] = {}

    def fail(self, name: str, message: str) -> None:
        """Record ``message`` for field ``name`` unless the field already has an error."""
        self.report(DomainError(message, field=name))

    def report(self, error: DomainError) -> None:
        """Record ``error`` for its field unless the field already has an error."""
        self.errors.setdefault(str(error.field), error)

    def text(self, name: str, required: str | None = None) -> str:
        """The cleaned text of a single-valued field; ``required`` is the message when empty."""
        values = self._values(name)
        if len(values) > 1:
            self.fail(name, N_("Fältet skickades flera gånger. Ladda om sidan och försök igen."))
            return ""
        text = self._clean(name, values[0]) if values else ""
        if required and not text:
            self.fail(name, required)
        return text

    def choice(
        self, name: str, codes: Collection[str], message: str, *, optional: bool = False
    ) -> str:
        """One code from ``codes``; ``message`` when unknown, or when missing unless ``optional``."""
        value = self.text(name, None if optional else message)
        if value and value not in codes:
            self.fail(name, message)
            return ""
        return value

    def choices(self, name: str, codes: Collection[str]) -> tuple[str, ...]:
        """The codes ticked in a multi-valued field, in the order of ``codes``, once each."""
        ticked = {self._clean(name, value) for value in self._values(name)} - {""}
        if not ticked <= set(codes):
            self.fail(name, N_("Välj bara bland alternativen i listan."))
        return tuple(code for code in codes if code in ticked)

    def yes_no(self, name: str, message: str) -> bool:
        """True for ``ja``, False for ``nej``; ``message`` when missing or anything else."""
        return self.choice(name, ("ja", "nej"), message) == "ja"

    def ticked(self, name: str) -> bool:
        """True when a check box was sent as ``ja``."""
        return self.choice(name, ("ja", "nej"), N_("Välj ja eller nej."), optional=True) == "ja"

    def _values(self, name: str) -> list[str]:
        raw = self._form.get(name, [])
        return [raw] if isinstance(raw, str) else list(raw)

    def _clean(self, name: str, value: str) -> str:
        multiline = name in MULTILINE_FIELDS
        try:
            return clean_text(value, field=name, max_length=MAX_LENGTHS[name], multiline=multiline)
        except DomainError as error:
            self.report(error)
            return ""


def _read_referrer(reader: _FormReader, *, self_referral: bool) -> Referrer:
    """The case worker's organisation, name, work e-mail and phone; none in a self-referral."""
    if self_referral:
        return Referrer(org="egen", name="", email="", phone="")
    message = N_("Välj vilken organisation du arbetar på.")
    return Referrer(
        org=reader.choice("referrer_org", CASE_WORKER_ORGS, message),
        name=reader.text("referrer_name", N_("Ange ditt namn.")),
        email=_read_work_email(reader),
        phone=_read_phone(reader, "referrer_phone", N_("Ange ditt telefonnummer i tjänsten.")),
    )


def _read_work_email(reader: _FormReader) -> str:
    """The referrer's e-mail address, refused when malformed or a private mailbox."""
    email = reader.text("referrer_email", N_("Ange din e-postadress i tjänsten."))
    address = _EMAIL.fullmatch(email)
    if email and address is None:
        reader.fail("referrer_email", N_("Skriv e-postadressen som namn@exempel.se."))
        return ""
    if address and address["domain"].lower() in PRIVATE_MAIL_DOMAINS:
        message = N_("Ange din e-postadress i tjänsten, inte en privat adress som gmail.com.")
        reader.fail("referrer_email", message)
        return ""
    return email


def _read_phone(reader: _FormReader, name: str, required: str | None = None) -> str:
    """A phone number: digits, spaces, ``-``, ``()`` and a leading ``+``; 7 to 15 digits."""
    phone = reader.text(name, required)
    digits = sum(char.isdigit() for char in phone)
    if phone and (_PHONE.fullmatch(phone) is None or not 7 <= digits <= 15):
        reader.fail(name, N_("Skriv telefonnumret med 7–15 siffror, till exempel 070-123 45 67."))
        return ""
    return phone


def _read_person(reader: _FormReader, today: date, *, self_referral: bool) -> Person:
    """The person referred: identity (unless protected), language, interpreter, gender."""
    protected = reader.ticked("protected_identity")
    if protected and self_referral:
        message = N_(
            "Vid egenanmälan kan teamet inte kontakta dig via någon annan. Ring teamet, "
            "eller be din handläggare skicka anmälan."
        )
        reader.fail("protected_identity", message)
    name, personnummer, phone, channel = (
        _read_protected_identity(reader)
        if protected
        else _read_identity(reader, today, self_referral=self_referral)
    )
    email = None if protected else _read_person_email(reader)
    language = reader.text("language")
    needs_interpreter = reader.yes_no("interpreter", N_("Ange om personen behöver tolk."))
    gender = reader.choice("gender", GENDERS, N_("Välj kön."), optional=True)
    return Person(
        protected_identity=protected,
        name=name,
        personnummer=personnummer,
        phone=phone,
        contact_channel=channel,
        language=language,
        needs_interpreter=needs_interpreter,
        gender=gender or (personnummer.gender if personnummer else "annat"),
        birth_year=_read_birth_year(reader, today, protected=protected),
        email=email,
    )


def _read_person_email(reader: _FormReader) -> str | None:
    """The person's own e-mail address, if given (any mailbox; malformed is refused)."""
    email = reader.text("person_email")
    if email and _EMAIL.fullmatch(email) is None:
        reader.fail("person_email", N_("Skriv e-postadressen som namn@exempel.se."))
        return None
    return email or None


_Identity = tuple[str | None, Personnummer | None, str | None, str]


def _read_identity(reader: _FormReader, today: date, *, self_referral: bool) -> _Identity:
    """Name, personnummer, phone and contact channel of a person without protected identity."""
    name = reader.text("person_name", N_("Ange personens namn."))
    personnummer = _read_personnummer(reader, today)
    phone = _read_phone(reader, "person_phone")
    channel = reader.choice(
        "contact_channel", CONTACT_CHANNELS, N_("Välj hur teamet ska kontakta personen.")
    )
    if self_referral and channel == "via_remittent":
        message = N_("Vid egenanmälan kontaktar teamet dig själv. Välj telefon, sms eller brev.")
        reader.fail("contact_channel", message)
    if channel in PHONE_CHANNELS and not phone:
        message = N_("Ange personens telefonnummer, eller välj ett annat sätt att ta kontakt.")
        reader.fail("person_phone", message)
    return name or None, personnummer, phone or None, channel


def _read_personnummer(reader: _FormReader, today: date) -> Personnummer | None:
    """The checked personnummer; a 10-digit one outside :data:`WORKING_AGE` must be confirmed."""
    required = N_(
        "Ange personnumret med 10 eller 12 siffror, med eller utan bindestreck, till exempel "
        "19850312-1234 eller 850312-1234."
    )
    written = reader.text("personnummer", required)
    confirmed = reader.ticked("personnummer_confirmed")
    if not written:
        return None
    try:
        number = parse_personnummer(written, today=today)
    except DomainError as error:
        reader.report(error)
        return None
    age = age_on(number, today)
    youngest, oldest = WORKING_AGE
    if has_century(written) or youngest <= age <= oldest or confirmed:
        return number
    message = N_(
        "Enligt personnumret är personen {age} år (född {year}). Teamet tar emot personer "
        "16–64 år. Skriv personnumret med 12 siffror om århundradet blev fel, eller kryssa i "
        "”Ja, personnumret stämmer”."
    )
    reader.report(
        DomainError(message, field="personnummer_confirmed", age=age, year=number.birth_date.year)
    )
    return number


def _read_protected_identity(reader: _FormReader) -> _Identity:
    """Nothing: with protected identity the identity fields must be empty, contact via referrer."""
    for name in ("person_name", "personnummer", "person_phone", "person_email"):
        if reader.text(name):
            reader.fail(name, N_("Lämna fältet tomt när personen har skyddade personuppgifter."))
    message = N_(
        "Personer med skyddade personuppgifter kontaktas via dig. Välj ”Via mig som remittent”."
    )
    channel = reader.choice("contact_channel", CONTACT_CHANNELS, message, optional=True)
    if channel not in ("", "via_remittent"):
        reader.fail("contact_channel", message)
    return None, None, None, "via_remittent"


def _read_birth_year(reader: _FormReader, today: date, *, protected: bool) -> int | None:
    """The birth year, given only with protected identity (else it comes from personnummer)."""
    written = reader.text("birth_year")
    if not written:
        return None
    if not protected:
        reader.fail("birth_year", N_("Lämna födelseåret tomt. Det räknas ut från personnumret."))
        return None
    if not (
        written.isascii()
        and written.isdigit()
        and EARLIEST_BIRTH_YEAR <= int(written) <= today.year
    ):
        reader.fail("birth_year", N_("Ange födelseåret med fyra siffror, till exempel 1985."))
        return None
    return int(written)


def _read_consent(reader: _FormReader, *, self_referral: bool) -> ConsentChoices:
    """The participant's consent choices, and the case worker's confirmation.

    In a self-referral the person gives the consents in the form themself: ``digital``.
    """
    parties = reader.choices("consent_sharing_parties", PARTIES)
    information = reader.choices("consent_sharing_info", INFORMATION_KINDS)
    if parties and not information:
        message = N_("Välj vilka uppgifter teamet får dela med de parter som personen valt.")
        reader.fail("consent_sharing_info", message)
    if information and not parties:
        message = N_("Välj vem uppgifterna får delas med, eller ta bort kryssen för uppgifterna.")
        reader.fail("consent_sharing_parties", message)
    follow_up = reader.yes_no(
        "consent_follow_up", N_("Ange om personen samtycker till uppföljning, ja eller nej.")
    )
    gives_any = bool(parties) or follow_up
    method_message = N_("Välj hur personen gav sitt samtycke: på papper eller muntligt.")
    if self_referral:
        method = "digital"
    else:
        method = reader.choice(
            "consent_method", CASE_WORKER_CONSENT_METHODS, method_message, optional=True
        )
    if gives_any and not method:
        reader.fail("consent_method", method_message)
    if not reader.ticked("consent_confirmed"):
        message = N_("Bekräfta att personen har fått läsa eller höra samtyckestexterna.")
        reader.fail("consent_confirmed", message)
    return ConsentChoices(parties, information, follow_up, method if gives_any else None)
