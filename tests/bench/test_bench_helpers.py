"""Specification of the benchmarks' own helpers (the benchmarks themselves measure, not test)."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import percentile
from bench.intake_bench import hidden_fields, personnummer, referral_answers
from bench.loadgen import LoadResult, Timings, check_loopback, combined, visitor_addresses
from bench.run_all import cell
from core.personnummer import parse_personnummer
from core.referral_form import parse_referral_form

TODAY = date(2026, 11, 22)


@given(st.integers(min_value=0, max_value=13_999_999))
def test_every_generated_personnummer_is_valid(n: int) -> None:
    parse_personnummer(personnummer(n), today=TODAY)


def test_generated_personnummer_differ_from_one_submission_to_the_next() -> None:
    numbers = [personnummer(n) for n in range(0, 14_000 * 3, 7)]
    assert len(set(numbers)) == len(numbers)


def test_the_answers_make_a_referral_the_form_accepts() -> None:
    form: dict[str, str | list[str]] = {}
    for name, value in referral_answers(42):
        if name in form:
            previous = form[name]
            form[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            form[name] = value
    draft = parse_referral_form(form, team_codes={"norr"}, today=TODAY)
    assert draft.team == "norr"


def test_hidden_fields_are_read_back_unescaped_in_order() -> None:
    page = (
        '<form><input type="hidden" name="_csrf" value="a&amp;b">'
        '<input type="text" name="person_name" value="Amal">'
        '<input type="hidden" name="help_wanted" value="&quot;jobb&quot;&#10;nu"></form>'
    )
    assert hidden_fields(page) == [("_csrf", "a&b"), ("help_wanted", '"jobb"\nnu')]


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50.0,
        99.0,
        100.0,
    )
    assert percentile([7.0], 99) == 7.0


def test_visitor_addresses_are_loopback_and_skip_network_and_broadcast_octets() -> None:
    addresses = list(itertools.islice(visitor_addresses(), 600))
    assert addresses[:2] == ["127.1.0.1", "127.1.0.2"]
    assert len(set(addresses)) == 600
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses)
    assert not any(a.endswith((".0", ".255")) for a in addresses)


@pytest.mark.parametrize("url", ["http://10.0.0.1:8080", "http://192.168.1.2/", "http://8.8.8.8"])
def test_the_load_generator_refuses_targets_off_this_machine(url: str) -> None:
    with pytest.raises(ValueError, match="only targets loopback"):
        check_loopback(url)


def test_the_load_generator_accepts_loopback_targets() -> None:
    check_loopback("http://127.0.0.1:8080")
    check_loopback("http://localhost:8080")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (float("nan"), "—"),
        (0.01234, "0.0123"),
        (12.345, "12.3"),
        (16349.6, "16 350"),
        (81747, "81 747"),
        (True, "yes"),
        ("text", "text"),
    ],
)
def test_table_cells_are_rounded_for_reading(value: object, shown: str) -> None:
    assert cell(value) == shown


def test_load_runs_made_at_the_same_time_combine_into_one() -> None:
    first, second = (
        Timings(iterations=[0.1], errors=1, succeeded_total=3),
        Timings(iterations=[0.2, 0.3], first_error="boom", succeeded_total=4),
    )
    first.steps["GET /"].append(0.1)
    second.steps["GET /"] += [0.2, 0.3]
    both = combined([LoadResult(25, 10.0, first), LoadResult(25, 10.0, second)])
    assert (both.clients, both.completed, both.throughput) == (50, 3, 0.3)
    assert (both.timings.errors, both.timings.first_error, both.timings.succeeded_total) == (
        1,
        "boom",
        7,
    )
    assert both.timings.steps["GET /"] == [0.1, 0.2, 0.3]


def test_the_profile_folds_own_functions_inclusively_and_libraries_by_their_leaf() -> None:
    from bench.profile_bench import ROOT, fold

    own = f"{ROOT}/intake/referral_form.py"
    library = "/x/.venv/lib/python3.11/site-packages/markupsafe/__init__.py"
    serve = f"{ROOT}/app/commands/serve.py"
    raw = "\n".join(
        [
            f"process 1;thread 2;run ({serve}:9);review ({own}:10);__mod__ ({library}:5) 3",
            f"process 1;thread 2;run ({serve}:9);review ({own}:10);review ({own}:12) 2",
            "process 1;thread 2;select (/usr/lib/python3.11/selectors.py:469) 5",
        ]
    )
    total, inclusive, leaves = fold(raw)
    assert total == 10
    # A recursive own function counts once per sample; the entry point is left out.
    assert inclusive == {"intake.referral_form.review": 5}
    assert leaves == {
        "__mod__ (markupsafe/__init__.py)": 3,
        "intake.referral_form.review": 2,
        "select (python3.11/selectors.py)": 5,
    }
