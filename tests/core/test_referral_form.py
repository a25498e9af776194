"""Specification of core.referral_form: the referral form's fields, checks and draft."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.consent import ConsentChoices
from core.errors import DomainError, FormErrors
from core.personnummer import FORMAT_HINT, parse_personnummer
from core.referral_form import (
    FORM_FIELDS,
    MAX_LENGTHS,
    Person,
    ReferralDraft,
    Referrer,
    clean_text,
    parse_referral_form,
)

TODAY = date(2026, 11, 22)
TEAMS = ("nordost", "syd")


# ---------------------------------------------------------------------------- the form


def valid_form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    """A complete, valid referral form as the browser sends it, with ``changes`` applied."""
    form: dict[str, str | list[str]] = {
        "_csrf": "token",
        "team": "nordost",
        "referrer_type": "remittent",
        "referrer_org": "kommun_socialtjanst",
        "referrer_name": "Lena Handläggare",
        "referrer_email": "lena.handlaggare@exempel.kommun.se",
        "referrer_phone": "010-123 45 67",
        "person_name": "Amal Hassan",
        "personnummer": "890102-3286",
        "person_phone": "070-123 45 67",
        "contact_channel": "sms",
        "language": "arabiska",
        "interpreter": "ja",
        "income_source": "forsorjningsstod",
        "contacts": ["kommun", "af"],
        "help_wanted": "Vill hitta en praktikplats.\nHar svårt med långa dagar.",
        "practical_needs": "",
        "consent_sharing_parties": ["af", "kommun"],
        "consent_sharing_info": ["arbetsformaga", "insatser"],
        "consent_follow_up": "ja",
        "consent_method": "paper",
        "consent_confirmed": "ja",
    }
    return form | changes


def errors_of(form: dict[str, str | list[str]]) -> dict[str, str]:
    """The rendered error message of each field, for a form that must fail."""
    with pytest.raises(FormErrors) as raised:
        parse_referral_form(form, team_codes=TEAMS, today=TODAY)
    assert all(error.field == name for name, error in raised.value.errors.items())
    return {name: error.render() for name, error in raised.value.errors.items()}


def parse(form: dict[str, str | list[str]]) -> ReferralDraft:
    """The draft of a form that must pass."""
    return parse_referral_form(form, team_codes=TEAMS, today=TODAY)


def test_a_complete_form_gives_the_typed_draft() -> None:
    assert parse(valid_form()) == ReferralDraft(
        team="nordost",
        referrer=Referrer(
            "kommun_socialtjanst",
            "Lena Handläggare",
            "lena.handlaggare@exempel.kommun.se",
            "010-123 45 67",
        ),
        person=Person(
            protected_identity=False,
            name="Amal Hassan",
            personnummer=parse_personnummer("19890102-3286", today=TODAY),
            phone="070-123 45 67",
            contact_channel="sms",
            language="arabiska",
            needs_interpreter=True,
            gender="kvinna",
            birth_year=None,
        ),
        income_source="forsorjningsstod",
        contacts=("af", "kommun"),
        help_wanted="Vill hitta en praktikplats.\nHar svårt med långa dagar.",
        practical_needs="",
        consent=ConsentChoices(("af", "kommun"), ("arbetsformaga", "insatser"), True, "paper"),
    )


def test_an_empty_form_names_every_required_field_in_form_order() -> None:
    errors = errors_of({})
    assert list(errors) == [
        "team",
        "referrer_type",
        "referrer_org",
        "referrer_name",
        "referrer_email",
        "referrer_phone",
        "person_name",
        "personnummer",
        "contact_channel",
        "interpreter",
        "income_source",
        "help_wanted",
        "consent_follow_up",
        "consent_confirmed",
    ]
    assert errors["personnummer"] == "Ange personnumret med " + FORMAT_HINT  # as the hint says


def test_a_wrong_personnummer_gets_the_message_that_says_what_is_wrong() -> None:
    assert errors_of(valid_form(personnummer="890102-3287")) == {
        "personnummer": "Kontrollsiffran (den sista siffran) stämmer inte. Kontrollera personnumret."
    }


def test_gender_defaults_from_the_personnummer_and_can_be_chosen() -> None:
    assert parse(valid_form(personnummer="880320-0016")).person.gender == "man"
    assert parse(valid_form(gender="annat")).person.gender == "annat"
    assert errors_of(valid_form(gender="okänt")) == {"gender": "Välj kön."}


def test_protected_identity_records_no_identity_and_contact_goes_via_the_referrer() -> None:
    form = valid_form(
        protected_identity="ja", person_name="", personnummer="", person_phone="", birth_year="1990"
    )
    del form["contact_channel"]
    person = parse(form).person
    assert person == Person(
        protected_identity=True,
        name=None,
        personnummer=None,
        phone=None,
        contact_channel="via_remittent",
        language="arabiska",
        needs_interpreter=True,
        gender="annat",
        birth_year=1990,
    )


def test_protected_identity_refuses_filled_identity_fields() -> None:
    message = "Lämna fältet tomt när personen har skyddade personuppgifter."
    assert errors_of(valid_form(protected_identity="ja", contact_channel="via_remittent")) == {
        "person_name": message,
        "personnummer": message,
        "person_phone": message,
    }


def test_protected_identity_can_only_be_contacted_via_the_referrer() -> None:
    form = valid_form(
        protected_identity="ja",
        person_name="",
        personnummer="",
        person_phone="",
        contact_channel="brev",
    )
    assert list(errors_of(form)) == ["contact_channel"]


@pytest.mark.parametrize("birth_year", ["85", "1899", "2027", "19x5", "１９８５"])
def test_birth_year_must_be_four_digits_and_plausible(birth_year: str) -> None:
    form = valid_form(
        protected_identity="ja",
        person_name="",
        personnummer="",
        person_phone="",
        contact_channel="via_remittent",
        birth_year=birth_year,
    )
    assert errors_of(form) == {
        "birth_year": "Ange födelseåret med fyra siffror, till exempel 1985."
    }


def test_birth_year_is_only_for_protected_identity() -> None:
    assert list(errors_of(valid_form(birth_year="1989"))) == ["birth_year"]


@pytest.mark.parametrize("channel", ["telefon", "sms"])
def test_phone_and_sms_contact_need_the_persons_phone(channel: str) -> None:
    assert list(errors_of(valid_form(contact_channel=channel, person_phone=""))) == ["person_phone"]


def test_letter_contact_needs_no_phone() -> None:
    assert parse(valid_form(contact_channel="brev", person_phone="")).person.phone is None


@pytest.mark.parametrize("phone", ["070", "070-abc", "+46 70 123 45 67 89 01 23", "070/1234567"])
def test_phone_numbers_are_digits_and_separators(phone: str) -> None:
    assert list(errors_of(valid_form(person_phone=phone))) == ["person_phone"]


@pytest.mark.parametrize("phone", ["+46 (0)70-123 45 67", "0701234567", "08-123 456"])
def test_common_phone_formats_are_accepted(phone: str) -> None:
    assert parse(valid_form(referrer_phone=phone)).referrer.phone == phone


@pytest.mark.parametrize(
    "email",
    [
        "lena",
        "lena@",
        "lena@kommun",
        "lena kommun@se.se",
        "a@b@c.se",
        "a,b@c.se",
        "<a>@c.se",
        "a@-c.se",
    ],
)
def test_malformed_email_is_refused(email: str) -> None:
    assert errors_of(valid_form(referrer_email=email)) == {
        "referrer_email": "Skriv e-postadressen som namn@exempel.se."
    }


@pytest.mark.parametrize("email", ["lena@gmail.com", "Lena@Hotmail.SE"])
def test_private_mailbox_is_refused_as_work_email(email: str) -> None:
    assert errors_of(valid_form(referrer_email=email)) == {
        "referrer_email": "Ange din e-postadress i tjänsten, inte en privat adress som gmail.com."
    }


def test_email_with_swedish_letters_in_the_domain_is_accepted() -> None:
    email = "lena@håbo.se"
    assert parse(valid_form(referrer_email=email)).referrer.email == email


def test_help_wanted_may_be_3000_characters_but_not_more() -> None:
    assert len(parse(valid_form(help_wanted="å" * 3000)).help_wanted) == 3000
    assert errors_of(valid_form(help_wanted="å" * 3001)) == {
        "help_wanted": "Texten är för lång. Skriv högst 3000 tecken (nu 3001)."
    }


def test_text_is_trimmed_and_line_endings_normalised() -> None:
    draft = parse(valid_form(help_wanted="  Rad ett\r\nRad två\r  ", referrer_name=" Lena "))
    assert draft.help_wanted == "Rad ett\nRad två"
    assert draft.referrer.name == "Lena"


def test_html_is_kept_as_written_for_the_web_layer_to_escape() -> None:
    text = '<script>alert("x")</script> & <b>'
    assert parse(valid_form(practical_needs=text)).practical_needs == text


@pytest.mark.parametrize(
    ("field", "value"),
    [("person_name", "Amal\x00Hassan"), ("person_name", "Amal\nHassan"), ("help_wanted", "a\x1bb")],
)
def test_control_characters_are_refused(field: str, value: str) -> None:
    assert errors_of(valid_form(**{field: value})) == {
        field: "Texten innehåller osynliga styrtecken. Ta bort dem och försök igen."
    }


def test_multi_values_are_unique_in_code_order_and_a_single_string_counts_as_one() -> None:
    draft = parse(valid_form(contacts=["region", "af", "region"], consent_sharing_info="halsa"))
    assert draft.contacts == ("af", "region")
    assert draft.consent.sharing_information == ("halsa",)


def test_unknown_codes_in_multi_values_are_refused() -> None:
    assert errors_of(valid_form(contacts=["af", "polisen"])) == {
        "contacts": "Välj bara bland alternativen i listan."
    }


def test_a_single_field_sent_twice_is_refused() -> None:
    assert list(errors_of(valid_form(team=["nordost", "syd"]))) == ["team"]


def test_unknown_team_is_refused() -> None:
    assert errors_of(valid_form(team="okänt")) == {"team": "Välj vilket team remissen gäller."}


def test_no_information_sharing_is_a_valid_choice() -> None:
    draft = parse(valid_form(consent_sharing_parties=[], consent_sharing_info=[]))
    assert draft.consent == ConsentChoices((), (), True, "paper")


def test_sharing_needs_both_parties_and_kinds_of_information() -> None:
    assert list(errors_of(valid_form(consent_sharing_info=[]))) == ["consent_sharing_info"]
    assert list(errors_of(valid_form(consent_sharing_parties=[]))) == ["consent_sharing_parties"]


@pytest.mark.parametrize("answer", ["", "kanske"])
def test_follow_up_consent_must_be_an_explicit_yes_or_no(answer: str) -> None:
    assert errors_of(valid_form(consent_follow_up=answer)) == {
        "consent_follow_up": "Ange om personen samtycker till uppföljning, ja eller nej."
    }


def test_a_given_consent_needs_the_method() -> None:
    assert errors_of(valid_form(consent_method="")) == {
        "consent_method": "Välj hur personen gav sitt samtycke: på papper eller muntligt."
    }


def test_without_any_consent_the_method_is_not_needed() -> None:
    form = valid_form(
        consent_sharing_parties=[],
        consent_sharing_info=[],
        consent_follow_up="nej",
        consent_method="",
    )
    assert parse(form).consent == ConsentChoices((), (), False, None)


def test_the_case_worker_must_confirm_the_person_has_seen_the_texts() -> None:
    assert errors_of(valid_form(consent_confirmed="")) == {
        "consent_confirmed": "Bekräfta att personen har fått läsa eller höra samtyckestexterna."
    }


def test_repr_of_a_draft_leaves_out_names_phone_and_free_text() -> None:
    shown = repr(parse(valid_form()))
    for personal in ("Amal", "Lena", "070-123", "praktikplats", "3286"):
        assert personal not in shown


# ---------------------------------------------------------------------------- form, fuzzed

form_values = st.one_of(st.text(max_size=60), st.lists(st.text(max_size=20), max_size=4))
field_names = st.one_of(st.sampled_from(FORM_FIELDS), st.text(max_size=10))


def parse_or_form_errors(form: dict[str, str | list[str]]) -> None:
    """Parse ``form``; the only failure allowed is FormErrors with one error per known field."""
    try:
        parse(form)
    except FormErrors as raised:
        assert raised.errors
        assert set(raised.errors) <= set(FORM_FIELDS)
        for name, error in raised.errors.items():
            assert isinstance(error, DomainError)
            assert error.field == name
            assert error.render()


@given(form=st.dictionaries(field_names, form_values, max_size=30))
def test_arbitrary_forms_raise_only_form_errors(form: dict[str, str | list[str]]) -> None:
    parse_or_form_errors(form)


@given(name=st.sampled_from(FORM_FIELDS), value=form_values)
def test_one_arbitrary_field_in_a_valid_form_raises_only_form_errors(
    name: str, value: str | list[str]
) -> None:
    parse_or_form_errors(valid_form(**{name: value}))


@given(name=st.sampled_from(FORM_FIELDS), extra=st.integers(1, 5000))
def test_oversized_fields_are_refused_with_a_message(name: str, extra: int) -> None:
    value = "a" * (MAX_LENGTHS[name] + extra)
    assert "Texten är för lång" in errors_of(valid_form(**{name: value}))[name]


@given(personnummer=st.text(alphabet="0123456789-+ ", min_size=1, max_size=15))
def test_invalid_personnummer_gives_a_field_error(personnummer: str) -> None:
    try:
        draft = parse(valid_form(personnummer=personnummer))
    except FormErrors as raised:
        assert list(raised.errors) == ["personnummer"]
    else:
        assert draft.person.personnummer == parse_personnummer(personnummer, today=TODAY)


@given(text=st.text(min_size=1, max_size=200))
def test_arbitrary_text_in_free_text_fields_is_stored_or_refused_with_a_message(text: str) -> None:
    try:
        draft = parse(valid_form(help_wanted=text, language=text[:100]))
    except FormErrors as raised:
        assert set(raised.errors) <= {"help_wanted", "language"}
    else:
        assert draft.help_wanted
        assert "\x00" not in draft.help_wanted


# ------------------------------------------------------------- who sends the referral


SELF_REFERRAL = {
    "referrer_type": "egen",
    "referrer_org": "",
    "referrer_name": "",
    "referrer_email": "",
    "referrer_phone": "",
    "consent_method": "",
}


def test_a_self_referral_needs_no_case_worker_and_gives_its_consent_digitally() -> None:
    draft = parse(valid_form(**SELF_REFERRAL))
    assert draft.referrer == Referrer(org="egen", name="", email="", phone="")
    assert draft.consent.method == "digital"


def test_a_self_referral_ignores_case_worker_fields_left_filled_in() -> None:
    typed = {**SELF_REFERRAL, "referrer_email": "lena@gmail.com", "consent_method": "paper"}
    draft = parse(valid_form(**typed))
    assert draft.referrer.email == "" and draft.consent.method == "digital"


def test_a_self_referral_cannot_be_contacted_through_a_referrer_or_be_protected() -> None:
    errors = errors_of(
        valid_form(
            **SELF_REFERRAL,
            protected_identity="ja",
            person_name="",
            personnummer="",
            person_phone="",
            contact_channel="via_remittent",
        )
    )
    assert list(errors) == ["protected_identity"]
    assert "Ring teamet" in errors["protected_identity"]
    channel_errors = errors_of(valid_form(**SELF_REFERRAL, contact_channel="via_remittent"))
    assert channel_errors == {
        "contact_channel": "Vid egenanmälan kontaktar teamet dig själv. Välj telefon, sms eller brev."
    }


def test_a_case_worker_chooses_an_organisation_other_than_self_referral() -> None:
    assert list(errors_of(valid_form(referrer_org="egen"))) == ["referrer_org"]
    assert parse(valid_form(referrer_org="annan")).referrer.org == "annan"


def test_digital_consent_is_the_persons_own_not_a_case_workers_choice() -> None:
    assert list(errors_of(valid_form(consent_method="digital"))) == ["consent_method"]
    assert parse(valid_form(consent_method="verbal")).consent.method == "verbal"


def test_who_sends_must_be_one_of_the_two_choices() -> None:
    assert errors_of(valid_form(referrer_type="kanske")) == {
        "referrer_type": "Välj om du är handläggare eller anmäler dig själv."
    }


# ------------------------------------------------------- age from a 10-digit personnummer


@pytest.mark.parametrize(
    ("written", "age"),
    [("120312-1239", 14), ("590312-1233", 67)],
)
def test_a_10_digit_number_outside_working_age_asks_to_confirm(written: str, age: int) -> None:
    number = parse_personnummer(written, today=TODAY)
    errors = errors_of(valid_form(personnummer=written))
    assert list(errors) == ["personnummer_confirmed"]
    assert f"personen {age} år (född {number.birth_date.year})" in errors["personnummer_confirmed"]
    assert "Ja, personnumret stämmer" in errors["personnummer_confirmed"]
    confirmed = parse(valid_form(personnummer=written, personnummer_confirmed="ja"))
    assert confirmed.person.personnummer == number


def test_a_12_digit_number_or_one_of_working_age_needs_no_confirmation() -> None:
    assert parse(valid_form(personnummer="20120312-1239")).person.birth_date == date(2012, 3, 12)
    assert parse(valid_form(personnummer="100312-1231")).person.birth_date == date(2010, 3, 12)
    assert parse(valid_form(personnummer="620312-1238")).person.birth_date == date(1962, 3, 12)


def test_the_persons_email_is_optional_and_kept_when_given() -> None:
    assert parse(valid_form()).person.email is None
    given = parse(valid_form(person_email=" anna.a@exempel.se "))
    assert given.person.email == "anna.a@exempel.se"
    assert "anna" not in repr(given)


def test_a_malformed_email_of_the_person_is_refused_by_its_field() -> None:
    assert list(errors_of(valid_form(person_email="anna@"))) == ["person_email"]


def _has_control_character(text: str, allowed: str) -> bool:
    """The definition clean_text checks: any character of category Cc or Cs not allowed."""
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in text)


@given(st.text(alphabet=st.characters(codec=None), max_size=40), st.booleans())
def test_clean_text_refuses_exactly_the_control_and_surrogate_characters(
    value: str, multiline: bool
) -> None:
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    refused = _has_control_character(text, "\n\t" if multiline else "")
    try:
        clean_text(value, field="f", max_length=1000, multiline=multiline)
    except DomainError:
        assert refused
    else:
        assert not refused


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\x7f", "\x85", "\x9f", "\ud800", "\udfff"])
def test_clean_text_refuses_each_edge_of_the_control_ranges(char: str) -> None:
    with pytest.raises(DomainError):
        clean_text(f"a{char}b", field="f", max_length=100, multiline=True)
    assert clean_text("a\x7e\xa0b", field="f", max_length=100) == "a~\xa0b"
