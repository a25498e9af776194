"""Specification of theme coding: the codebook file, code_text, and its measured quality."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from core.themes import (
    CODEBOOK_PATH,
    Codebook,
    CodebookError,
    code_text,
    default_codebook,
    load_codebook,
)

DATA = Path(__file__).parent / "data"
DOMAIN_THEMES = (
    "grupp",
    "samtal",
    "egen_kraft",
    "social",
    "motion",
    "struktur",
    "myndighet",
    "arbete",
    "studier",
    "nytt",
    "halsa",
)
#: Floors set just below what was measured when the codebook was frozen (dev 0.980 / 0.974,
#: test 0.961 / 0.987). The codebook is tuned on dev only; test measures.
FLOORS = {"labelled_dev.yaml": (0.97, 0.96), "labelled_test.yaml": (0.95, 0.97)}

VALID_THEME = """\
  - code: kaffe
    labels: {sv: Kaffe, en: Coffee, ar: قهوة}
    description: Fika och kaffe.
    sv_stems: ["kaffe*", "fika"]
"""


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return default_codebook()


def write_codebook(tmp_path: Path, themes: str) -> Path:
    path = tmp_path / "kodbok.yaml"
    path.write_text("themes:\n" + themes, encoding="utf-8")
    return path


def labelled(name: str) -> list[dict[str, object]]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


# --- the codebook file -------------------------------------------------------------------------


def test_default_codebook_has_the_domain_themes_in_order(codebook: Codebook) -> None:
    assert codebook.codes == DOMAIN_THEMES


def test_default_codebook_is_read_once() -> None:
    assert default_codebook() is default_codebook()


def test_codebook_version_is_sha256_of_the_file(codebook: Codebook) -> None:
    assert codebook.version == hashlib.sha256(CODEBOOK_PATH.read_bytes()).hexdigest()


def test_every_theme_has_swedish_english_and_arabic_labels_and_terms(codebook: Codebook) -> None:
    for theme in codebook.themes:
        assert set(theme.labels) == {"sv", "en", "ar"}
        assert theme.description
        assert theme.sv_stems and theme.sv_phrases and theme.en_terms and theme.ar_terms


def test_label_in_each_language_falls_back_to_the_code_when_unknown(codebook: Codebook) -> None:
    assert codebook.label("motion") == "Motion och träning"
    assert codebook.label("motion", "en") == "Exercise and physical activity"
    assert codebook.label("motion", "ar") == "الرياضة والحركة"
    assert codebook.label("okand_kod") == "okand_kod"


def test_team_edited_codebook_codes_with_its_own_terms(tmp_path: Path) -> None:
    codebook = load_codebook(write_codebook(tmp_path, VALID_THEME))

    assert codebook.codes == ("kaffe",)
    assert code_text("Kaffet på morgonen", codebook) == ["kaffe"]
    assert code_text("Gruppen", codebook) == []


def test_changed_file_gives_a_new_version(tmp_path: Path) -> None:
    first = load_codebook(write_codebook(tmp_path, VALID_THEME))
    second = load_codebook(write_codebook(tmp_path, VALID_THEME.replace("Fika", "Fikat")))

    assert first.version != second.version


@pytest.mark.parametrize(
    ("themes", "theme", "reason"),
    [
        (VALID_THEME + "    colour: blue\n", "kaffe", "okänd nyckel colour"),
        (VALID_THEME + VALID_THEME, "kaffe", "koden finns redan"),
        (
            VALID_THEME.replace('sv_stems: ["kaffe*", "fika"]', "sv_stems: []"),
            "kaffe",
            "inga termer",
        ),
        (VALID_THEME.replace('"fika"', '""'), "kaffe", "icke-tomma texter"),
        (VALID_THEME.replace('"fika"', '"dricka kaffe"'), "kaffe", "ska vara ett enda"),
        (VALID_THEME.replace('"fika"', '"ka*ffe"'), "kaffe", "först eller sist"),
        (VALID_THEME.replace(", ar: قهوة", ""), "kaffe", "labels ska ha en text"),
        (VALID_THEME.replace("code: kaffe", "code: Kaffe!"), "Kaffe!", "code ska vara"),
        (VALID_THEME + "    sv_phrases: [kaffe]\n", "kaffe", "ett enda ord"),
    ],
)
def test_invalid_codebook_is_refused_naming_file_theme_and_reason(
    tmp_path: Path, themes: str, theme: str, reason: str
) -> None:
    path = write_codebook(tmp_path, themes)

    with pytest.raises(CodebookError) as caught:
        load_codebook(path)

    message = str(caught.value)
    assert str(path) in message
    assert f"tema {theme}:" in message
    assert reason in message


def test_bad_yaml_is_refused_with_its_line_number(tmp_path: Path) -> None:
    path = write_codebook(
        tmp_path, VALID_THEME + "  - code: te\n    description: a: b\n  - code: x\n"
    )

    with pytest.raises(CodebookError, match=r"ogiltig YAML på rad 7$") as caught:
        load_codebook(path)

    assert str(path) in str(caught.value)


def test_codebook_error_is_a_domain_error_with_the_parts_as_params(tmp_path: Path) -> None:
    path = write_codebook(tmp_path, "")

    with pytest.raises(DomainError) as caught:
        load_codebook(path)

    assert caught.value.params["file"] == str(path)


# --- coding answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gymmet och gruppen", ["grupp", "motion"]),
        ("Vet inte", []),
        ("Inget har hjälpt, gruppen var inte för mig", []),
        ("Inte gruppen, men samtalen med min coach", ["samtal"]),
        ("Inte bara gruppen utan också gymmet", ["grupp", "motion"]),
        ("Mindre stress och jag är inte så ensam längre", ["social", "halsa"]),
        ("jag mår så mycket bättre", ["halsa"]),
        ("samtalen", ["samtal"]),
        ("samtalsgruppen", ["grupp"]),
        ("gymkortet", ["motion"]),
        ("arbetsträningen", ["arbete"]),
        ("Det var jobbigt i början", []),
        ("tränningen", ["motion"]),
        ("traningen och samtalen", ["samtal", "motion"]),
        ("KBT-samtal", ["samtal"]),
        ("AF-handläggaren hjälpte mig", ["myndighet"]),
        ("Talking to my coach every week", ["samtal"]),
        ("Nothing really helped", []),
        ("الرياضة والمشي", ["motion"]),
        ("أصبحت أثق بنفسي أكثر", ["egen_kraft"]),
        ("ساعدوني مع AF", ["myndighet"]),
    ],
)
def test_code_text_gives_the_themes_of_an_answer(
    codebook: Codebook, text: str, expected: list[str]
) -> None:
    assert code_text(text, codebook) == expected


def test_decomposed_swedish_letters_code_as_composed(codebook: Codebook) -> None:
    assert code_text("Tra\u0308ningen", codebook) == ["motion"]


@given(st.text(max_size=300))
def test_code_text_never_raises_and_gives_known_codes_in_order(text: str) -> None:
    codebook = default_codebook()
    codes = code_text(text, codebook)

    assert codes == [code for code in codebook.codes if code in codes]
    assert code_text(text, codebook) == codes


# --- the labelled answers and measured quality --------------------------------------------------


def test_labelled_sets_are_big_enough_different_and_use_known_codes(codebook: Codebook) -> None:
    dev, test = labelled("labelled_dev.yaml"), labelled("labelled_test.yaml")

    assert len(dev) >= 110 and len(test) >= 60
    assert not {a["text"] for a in dev} & {a["text"] for a in test}
    for answer in dev + test:
        assert set(answer["themes"]) <= set(codebook.codes), answer["text"]


@pytest.mark.parametrize("name", ["labelled_dev.yaml", "labelled_test.yaml"])
def test_labelled_sets_are_mostly_swedish_with_english_arabic_and_themeless(name: str) -> None:
    answers = labelled(name)
    languages = Counter(a["lang"] for a in answers)

    assert languages["sv"] / len(answers) >= 0.75
    assert languages["en"] / len(answers) >= 0.08 and languages["ar"] / len(answers) >= 0.08
    assert sum(not a["themes"] for a in answers) >= 5


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_coding_reaches_precision_and_recall_floors(codebook: Codebook, name: str) -> None:
    counts: Counter[str] = Counter()
    for answer in labelled(name):
        found, expected = set(code_text(str(answer["text"]), codebook)), set(answer["themes"])
        counts.update(tp=len(found & expected), fp=len(found - expected), fn=len(expected - found))

    precision = counts["tp"] / (counts["tp"] + counts["fp"])
    recall = counts["tp"] / (counts["tp"] + counts["fn"])

    precision_floor, recall_floor = FLOORS[name]
    assert precision >= precision_floor
    assert recall >= recall_floor
