"""The code lists of the domain (see DOMAIN.md): stored as codes, shown as labels.

Each list maps a code to a :class:`Code` with its Swedish and English label and, where
reports group codes, the report group. Codes are part of the public interface: never rename.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """One code with its labels and report group (empty when the list has no groups)."""

    code: str
    sv: str
    en: str
    group: str = ""

    def label(self, language: str = "sv") -> str:
        """The label in ``language`` (Swedish when there is none in that language)."""
        return self.en if language == "en" else self.sv


def _index(*codes: Code) -> dict[str, Code]:
    return {c.code: c for c in codes}


REFERRERS = _index(
    Code("af", "Arbetsförmedlingen", "Swedish Public Employment Service", "af"),
    Code("fk", "Försäkringskassan", "Swedish Social Insurance Agency", "fk"),
    Code("region_psykiatri", "Region – psykiatri", "Region – psychiatry", "region"),
    Code("region_primarvard", "Region – primärvård", "Region – primary care", "region"),
    Code("region_ovrig", "Region – övrig vård", "Region – other care", "region"),
    Code(
        "kommun_socialtjanst", "Kommun – socialtjänst", "Municipality – social services", "kommun"
    ),
    Code(
        "kommun_arbetsmarknad",
        "Kommun – arbetsmarknadsenhet",
        "Municipality – labour-market unit",
        "kommun",
    ),
    Code("kommun_ovrig", "Kommun – övrig", "Municipality – other", "kommun"),
    Code("egen", "Egenanmälan", "Self-referral", "other"),
    Code("annan", "Annan", "Other", "other"),
)
REFERRER_GROUPS = ("kommun", "af", "fk", "region", "other")

INCOME_SOURCES = _index(
    Code("forsorjningsstod", "Försörjningsstöd", "Social assistance", "socialtjanst"),
    Code(
        "sjukpenning",
        "Sjukpenning/rehabiliteringspenning",
        "Sickness/rehabilitation benefit",
        "fk",
    ),
    Code("aktivitetsersattning", "Aktivitetsersättning", "Activity compensation", "fk"),
    Code("sjukersattning", "Sjukersättning", "Sickness compensation", "fk"),
    Code(
        "aktivitetsstod",
        "Aktivitetsstöd/utvecklingsersättning",
        "Activity support/development allowance",
        "fk",
    ),
    Code("etableringsersattning", "Etableringsersättning", "Establishment allowance", "fk"),
    Code("a_kassa", "Arbetslöshetsersättning", "Unemployment benefit", "annan"),
    Code("lon", "Lön", "Salary", "annan"),
    Code("studiemedel", "Studiemedel", "Student finance", "annan"),
    Code("ingen", "Ingen offentlig försörjning", "No public income support", "annan"),
    Code("annan", "Annan", "Other", "annan"),
    Code("okand", "Okänd", "Unknown", "annan"),
)
INCOME_GROUPS = ("socialtjanst", "fk", "annan")

GENDERS = _index(
    Code("kvinna", "Kvinna", "Woman"),
    Code("man", "Man", "Man"),
    Code("annat", "Annat/okänt", "Other/unknown"),
)

END_REASONS = _index(
    Code("arbete", "Arbete", "Work"),
    Code("studier", "Studier", "Studies"),
    Code(
        "annan_rehab", "Annan arbetslivsinriktad rehabilitering", "Other vocational rehabilitation"
    ),
    Code("arbetssokande", "Aktivt arbetssökande", "Actively seeking work"),
    Code("sjukersattning", "Sjukersättning", "Sickness compensation"),
    Code(
        "medicinsk_rehab",
        "Behov av medicinsk rehabilitering/sjukdom",
        "Needs medical rehabilitation/illness",
    ),
    Code(
        "fortsatt_rehab",
        "Fortsatt rehabilitering hos remittent",
        "Continued rehabilitation with referrer",
    ),
    Code("foraldraledig", "Föräldraledighet", "Parental leave"),
    Code("flytt", "Flytt", "Moved"),
    Code("vill_ej_delta", "Vill inte delta", "Does not want to take part"),
    Code("medgivande_aterkallat", "Medgivande återtaget", "Consent withdrawn"),
    Code("ovrigt", "Övrigt", "Other"),
    Code("felregistrering", "Felregistrering", "Entered by mistake"),
)
#: End reasons that count as a result (*i mål*) unless the team configures otherwise.
DEFAULT_RESULT_REASONS = ("arbete", "studier", "annan_rehab")
#: Records ended with this reason are left out of every statistic.
MISTAKE_REASON = "felregistrering"
#: End reasons that appear in reports (every reason but felregistrering).
REPORTED_END_REASONS = tuple(c for c in END_REASONS if c != MISTAKE_REASON)

#: The parties a participant can allow the team to share information with.
PARTIES = _index(
    Code("af", "Arbetsförmedlingen", "Swedish Public Employment Service"),
    Code("fk", "Försäkringskassan", "Swedish Social Insurance Agency"),
    Code("region", "Regionen (hälso- och sjukvård)", "The Region (health care)"),
    Code(
        "kommun",
        "Kommunen (socialtjänst och arbetsmarknad)",
        "The municipality (social services and labour market)",
    ),
)

CONSENT_KINDS = _index(
    Code(
        "information_sharing", "Samtycke till informationsutbyte", "Consent to information sharing"
    ),
    Code("follow_up", "Samtycke till uppföljning", "Consent to follow-up and statistics"),
)
CONSENT_METHODS = _index(
    Code("digital", "Digitalt av deltagaren", "Digitally by the participant"),
    Code(
        "paper",
        "Underskrivet på papper, bekräftat av handläggaren",
        "Signed on paper, confirmed by the case worker",
    ),
    Code("verbal", "Muntligt, antecknat av handläggaren", "Verbally, noted by the case worker"),
)

CONTACT_CHANNELS = _index(
    Code("telefon", "Telefon", "Phone"),
    Code("sms", "SMS", "Text message"),
    Code("brev", "Brev", "Letter"),
    Code("via_remittent", "Via mig som remittent", "Through me, the referrer"),
)

REFERRAL_STATUSES = _index(
    Code("received", "Inkommen", "Received"),
    Code("assessing", "Under bedömning", "Being assessed"),
    Code("queued", "I kö", "In queue"),
    Code("visit_booked", "Studiebesök bokat", "Introductory visit booked"),
    Code("enrolled", "Inskriven", "Enrolled"),
    Code("ended", "Avslutad", "Ended"),
    Code("declined", "Avböjd", "Declined"),
    Code("withdrawn", "Återtagen", "Withdrawn"),
)

#: The participant's step on the way to work (*stegförflyttning*), recorded over time by staff.
PROGRESS_STEPS = _index(
    Code("kartlaggning", "Kartläggning och planering", "Mapping and planning"),
    Code("stabilisering", "Stabilisering och motivation", "Stabilisation and motivation"),
    Code("aktivitet", "Regelbunden aktivitet i teamet", "Regular activity in the team"),
    Code("arbetsformaga", "Utredning av arbetsförmåga", "Assessing ability to work"),
    Code("arbetstraning", "Arbetsträning eller praktik", "Work training or placement"),
    Code("studier", "Studier eller studieförberedelse", "Studies or preparing for studies"),
    Code("arbetssokande", "Aktivt arbetssökande", "Actively seeking work"),
    Code("arbete", "Arbete, med eller utan stöd", "Work, with or without support"),
)

#: Why a member of staff needs to see a full personnummer (the audit log keeps the code).
REVEAL_REASONS = _index(
    Code(
        "kontakt_myndighet",
        "Kontakt med myndighet eller vård om deltagaren",
        "Contact with an agency or care provider about the participant",
    ),
    Code("identitet", "Kontrollera deltagarens identitet", "Check the participant's identity"),
    Code("registrering", "Registrering i annat system", "Registration in another system"),
    Code("dubblett", "Utreda en möjlig dubbelregistrering", "Look into a possible duplicate"),
)

ROLES = ("admin", "coordinator", "staff")


def income_group(code: str | None) -> str:
    """The report group of an income-source code (``socialtjanst``, ``fk``, ``annan``).

    An unknown or missing code is ``annan``.
    """
    known = INCOME_SOURCES.get(code or "")
    return str(known.group) if known is not None else "annan"


def label(codes: dict[str, Code], code: str | None, language: str = "sv") -> str:
    """The label of ``code`` in ``codes``; the code itself when unknown, empty for None."""
    if code is None:
        return ""
    found = codes.get(code)
    return found.label(language) if found else code
