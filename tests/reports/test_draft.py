"""The drafted report: its structure, tables and Swedish sentences, and the Swedish formatting."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.draft import BulletList, Cell, Chart, Paragraph, Section, Table, draft_sections
from reports.format import (
    change_sentence,
    changes_since_previous,
    format_count,
    format_decimal,
    format_percent,
    format_period,
    goal_sentence,
    period_label,
)


def tables(sections: list[Section]) -> dict[str, Table]:
    """The draft's tables by name."""
    return {b.name: b for s in sections for b in s.blocks if isinstance(b, Table)}


def texts(table: Table) -> list[list[str]]:
    """A table's rows as shown."""
    return [[cell.text for cell in row] for row in table.rows]


def section(sections: list[Section], title: str) -> Section:
    return next(s for s in sections if s.title == title)


# Structure


def test_report_is_organised_as_deltagare_personal_organisation(summary):
    sections = draft_sections(summary)

    assert [s.title for s in sections if s.level == 1] == [
        "Om underlaget",
        "Deltagare",
        "Personal",
        "Organisation",
    ]
    assert sections[0].level == 0
    assert sections[0].title == "Underlag till verksamhetsrapport – Samverkansteam Öst"


def test_each_part_has_beskrivning_analys_and_reflektion(summary):
    sections = draft_sections(summary)
    parts: dict[str, list[str]] = {}
    for s in sections:
        if s.level == 1:
            current = parts.setdefault(s.title, [])
        elif s.level == 2:
            current.append(s.title)

    for part in ("Deltagare", "Personal", "Organisation"):
        assert parts[part] == ["Beskrivning", "Analys", "Reflektion"]


def test_personal_and_organisation_are_prompts_for_the_team(summary):
    sections = draft_sections(summary)
    start = next(n for n, s in enumerate(sections) if s.title == "Personal")

    intro = sections[start].blocks[0]
    prompts = [b for s in sections[start + 1 : start + 4] for b in s.blocks]
    assert isinstance(intro, Paragraph)
    assert intro.text == (
        "Tjänsten har inga uppgifter om personalen, så det här avsnittet skriver teamet."
    )
    assert all(isinstance(p, Paragraph) and p.prompt for p in prompts)


def test_about_states_period_team_and_how_small_numbers_are_hidden(summary):
    about = [b.text for b in section(draft_sections(summary), "Om underlaget").blocks]

    assert about[:3] == [
        "Period: 1 januari – 30 juni 2025",
        "Team: Samverkansteam Öst",
        "Sammanställt: 2025-07-03 09:15",
    ]
    assert about[3].startswith("Små tal: Antal från 1 till 4 visas som ”<5”")


def test_unsuppressed_summary_says_it_is_for_the_team_only(raw_summary):
    about = [b.text for b in section(draft_sections(raw_summary), "Om underlaget").blocks]

    assert "Små tal: Inte dolda. Underlaget är bara för teamets eget bruk." in about


def test_tables_and_figures_are_numbered_in_order(summary):
    blocks = [b for s in draft_sections(summary) for b in s.blocks]
    captions = [b.caption for b in blocks if isinstance(b, Table | Chart)]

    assert captions[:4] == [
        "Tabell 1. Deltagare under perioden",
        "Tabell 2. Deltagare per remitterande aktör",
        "Figur 1. Nya deltagare per remitterande aktör",
        "Tabell 3. Deltagare per försörjning vid start",
    ]


# Tables


def test_participant_flow_table_compares_with_the_previous_period(summary):
    table = tables(draft_sections(summary))["Deltagare"]

    assert table.header == ("Uppgift", "Perioden", "Föregående period")
    assert texts(table) == [
        ["Aktiva vid periodens början", "62", "60"],
        ["Nya under perioden", "23", "21"],
        ["Avslutade under perioden", "19", "19"],
        ["Aktiva vid periodens slut", "66", "62"],
    ]


def test_small_count_is_below_the_threshold_and_one_hidden_to_protect_it_is_dots(summary):
    # Försäkringskassan: 3 new (small), 11 active at the end (hidden only to protect a small one).
    table = tables(draft_sections(summary))["Remittenter"]

    assert table.rows[2] == (
        Cell("Försäkringskassan"),
        Cell("<5", None, "count"),
        Cell("..", None, "count"),
    )
    assert texts(table)[-1] == ["Totalt", "23", "66"]


def test_end_reasons_have_swedish_labels_and_every_reason_but_mistakes(summary):
    table = tables(draft_sections(summary))["Avslutsorsaker"]
    labels = [row[0] for row in texts(table)]

    assert labels[0] == "Arbete"
    assert "Annan arbetslivsinriktad rehabilitering" in labels
    assert "Felregistrering" not in labels
    assert texts(table)[0] == ["Arbete", "5", "<5"]


def test_outcomes_by_gender(summary):
    table = tables(draft_sections(summary))["Resultat per kön"]

    assert table.header == ("Kön", "Avslutade", "I mål")
    assert texts(table) == [
        ["Kvinna", "11", ".."],
        ["Man", "8", "<5"],
        ["Annat/okänt", "0", "0"],
        ["Totalt", "19", "10"],
    ]


def test_throughput_trend_ends_with_the_period_itself(summary):
    table = tables(draft_sections(summary))["Genomströmning"]

    assert texts(table)[0] == ["2023 H1", "18", "15", "55", "13,9", "13,1"]
    assert texts(table)[-1] == ["2025 H1", "23", "19", "66", "20,4", "18,9"]


def test_shares_and_means_are_typed_cells(summary):
    table = tables(draft_sections(summary))["Enkät"]

    assert table.rows[2] == (
        Cell("Svarsfrekvens"),
        Cell("73 %", 0.725, "share"),
        Cell("60 %", 0.6, "share"),
    )
    hidden_share = tables(draft_sections(summary))["Avslut"].rows[3][1]
    assert hidden_share == Cell("..", None, "share")


def test_without_previous_period_tables_have_one_column_of_figures(summary):
    summary["previous"] = None

    sections = draft_sections(summary)

    assert tables(sections)["Deltagare"].header == ("Uppgift", "Perioden")
    assert tables(sections)["Avslutsorsaker"].header == ("Avslutsorsak", "Perioden")
    changes = section(sections, "Förändringar sedan föregående period").blocks
    assert changes == (Paragraph("Det finns ingen föregående period att jämföra med."),)


# Beskrivning text


def test_flow_paragraph_states_the_figures(summary):
    paragraph = section(draft_sections(summary), "Deltagare under perioden").blocks[0]

    assert paragraph == Paragraph(
        "Under perioden skrevs 23 nya deltagare in och 19 avslutades. Vid periodens början var "
        "62 deltagare aktiva och vid periodens slut 66."
    )


def test_outcome_paragraph_shows_hidden_counts_as_below_threshold(summary):
    paragraph = section(draft_sections(summary), "Avslut och resultat").blocks[0]

    assert paragraph == Paragraph(
        "Av de 19 som avslutades under perioden avbröt <5 under prövotiden, och 10 avslutades i mål."
    )


def test_throughput_paragraph_with_too_few_ended(summary):
    summary["outcomes"] |= {"throughput_months_mean": None, "throughput_months_median": None}

    paragraph = section(draft_sections(summary), "Genomströmningstid").blocks[0]

    assert paragraph == Paragraph(
        "Genomströmningstiden visas inte för perioden: för få deltagare avslutades."
    )


# Reflektion: themes and quotes


def test_themes_are_listed_most_common_first_with_unthemed_last(summary):
    table = tables(draft_sections(summary))["Teman"]

    assert texts(table)[:2] == [
        ["Enskilda samtal och bemötande", "15", "9"],
        ["Stöd och pepp i grupp", "12", "14"],
    ]
    assert texts(table)[-1] == ["Svar utan tema", "<5", "<5"]


def test_each_theme_gets_at_most_three_quotes_and_each_quote_appears_once(summary):
    blocks = section(
        draft_sections(summary), "Vad deltagarna säger har varit till störst nytta"
    ).blocks

    quotes = {
        blocks[n - 1].text: block.items
        for n, block in enumerate(blocks)
        if isinstance(block, BulletList)
    }
    assert quotes == {
        "Enskilda samtal och bemötande (15 svar):": (
            "”Min coach lyssnade på riktigt.”",
            "”Hon följde med mig till FK.”",
            "”Jag blev bemött med respekt.”",
        ),
        "Stöd och pepp i grupp (12 svar):": (
            "”Gruppen gav mig pepp att fortsätta.”",
            "”Att träffa andra i samma sits hjälpte.”",
        ),
        "Arbetsträning och jobb (8 svar):": ("”Praktiken ledde till en anställning.”",),
    }


# Reflektion: changes and goals


def test_increase_is_described_with_both_values():
    sentence = change_sentence("outcomes.throughput_months_mean", 17.38, 20.43)

    assert sentence == "Genomströmningstiden har ökat från 17,4 till 20,4 månader."


def test_decrease_of_a_count():
    sentence = change_sentence("participants.new", 30, 23)

    assert sentence == "Antalet nya deltagare har minskat från 30 till 23."


def test_share_change_shows_percent_on_both_values():
    sentence = change_sentence("outcomes.share_result", 0.4, 0.52)

    assert sentence == "Andelen i mål har ökat från 40 % till 52 %."


@pytest.mark.parametrize(
    ("path", "before", "after", "expected"),
    [
        ("participants.new", 23, 23, "Antalet nya deltagare är oförändrat, 23."),
        (
            "outcomes.throughput_months_mean",
            17.41,
            17.44,
            "Genomströmningstiden är oförändrad, 17,4 månader.",
        ),
    ],
)
def test_unchanged_when_equal_as_shown(path, before, after, expected):
    assert change_sentence(path, before, after) == expected


@pytest.mark.parametrize(("before", "after"), [(None, 20.4), (17.4, None), (None, None)])
def test_no_sentence_when_a_value_is_hidden_or_missing(before, after):
    assert change_sentence("outcomes.throughput_months_mean", before, after) is None


def test_changes_since_previous_name_the_largest_moves_first(summary):
    changes = changes_since_previous(summary)

    assert changes == [
        "Antalet i kö vid periodens slut har ökat från 9 till 14.",
        "Andelen som upplever att de har kommit närmare arbete eller studier har ökat från 48 % till 62 %.",
        "Den genomsnittliga väntetiden har ökat från 38,5 till 47,3 dagar.",
        "Svarsfrekvensen har ökat från 60 % till 73 %.",
        "Genomströmningstiden har ökat från 17,4 till 20,4 månader.",
    ]


def test_changes_skip_figures_hidden_in_either_period(summary):
    summary["previous"]["referrals"]["queue_at_end"] = None

    changes = changes_since_previous(summary)

    assert not [c for c in changes if c.startswith("Antalet i kö")]


def test_nothing_moved_gives_one_sentence(raw_summary):
    raw_summary["previous"] = {
        k: v for k, v in raw_summary.items() if k not in ("previous", "trend")
    }

    assert changes_since_previous(raw_summary) == [
        "Nyckeltalen är oförändrade sedan föregående period."
    ]


def test_goal_met():
    goal = {
        "text": "minst 50 % upplever en stegförflyttning",
        "metric": "survey.closer_to_work.share",
        "value": 0.62,
        "met": True,
    }

    assert goal_sentence(goal) == "Målet 'minst 50 % upplever en stegförflyttning' nåddes: 62 %."


def test_goal_not_met_shows_the_value_with_its_unit():
    goal = {
        "text": "högst 45 dagar",
        "metric": "referrals.wait_days_mean",
        "value": 47.3,
        "met": False,
    }

    assert goal_sentence(goal) == "Målet 'högst 45 dagar' nåddes inte: 47,3 dagar."


def test_goal_without_a_denominator_cannot_be_followed_up():
    goal = {
        "text": "minst 40 % i mål",
        "metric": "outcomes.share_result",
        "value": None,
        "met": None,
    }

    assert goal_sentence(goal) == (
        "Målet 'minst 40 % i mål' kan inte följas upp för perioden: underlaget saknas."
    )


def test_goal_on_a_hidden_figure_still_says_whether_it_was_met():
    goal = {
        "text": "minst 40 % i mål",
        "metric": "outcomes.share_result",
        "value": None,
        "met": True,
    }

    assert goal_sentence(goal) == (
        "Målet 'minst 40 % i mål' nåddes (värdet visas inte: underlaget är för litet)."
    )


def test_goals_section_lists_each_goal(summary):
    goals = section(draft_sections(summary), "Mål").blocks

    assert goals == (
        BulletList(
            (
                "Målet 'minst 50 % upplever en stegförflyttning' nåddes: 62 %.",
                "Målet 'högst 45 dagars väntetid i genomsnitt' nåddes inte: 47,3 dagar.",
            )
        ),
    )


# Swedish formatting


@pytest.mark.parametrize(
    ("share", "shown"),
    [(0.625, "63 %"), (0.615, "62 %"), (0.0, "0 %"), (1.0, "100 %"), (None, "–")],
)
def test_percent_is_whole_with_a_space_before_the_sign(share, shown):
    assert format_percent(share) == shown


@pytest.mark.parametrize(("count", "shown"), [(0, "0"), (23, "23"), (1234, "1 234"), (None, "<5")])
def test_counts(count, shown):
    assert format_count(count, 5) == shown


def test_hidden_count_follows_the_threshold():
    assert format_count(None, 3) == "<3"


@given(st.floats(0, 100_000, allow_nan=False))
def test_decimal_has_a_comma_and_one_decimal(value):
    shown = format_decimal(value)

    whole, decimals = shown.replace(" ", "").split(",")
    assert len(decimals) == 1
    assert abs(float(f"{whole}.{decimals}") - value) <= 0.05 + 1e-9


def test_period_within_a_year_names_the_year_once():
    assert format_period(date(2025, 1, 1), date(2025, 6, 30)) == "1 januari – 30 juni 2025"
    assert format_period(date(2024, 7, 1), date(2025, 6, 30)) == "1 juli 2024 – 30 juni 2025"


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(2025, 1, 1), date(2025, 6, 30), "2025 H1"),
        (date(2024, 7, 1), date(2024, 12, 31), "2024 H2"),
        (date(2025, 1, 1), date(2025, 12, 31), "2025"),
        (date(2025, 1, 1), date(2025, 3, 31), "2025-01-01–2025-03-31"),
    ],
)
def test_period_labels(start, end, label):
    assert period_label(start, end) == label
