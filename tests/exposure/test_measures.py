"""Instruments as data files and their scoring, checked against sums worked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exposure.errors import UserError
from exposure.measures import (
    MeasureError,
    list_instruments,
    load_instrument,
    load_instrument_file,
    parse_answers,
    score,
)

# Kennedy et al. (1993): which of the 16 items count in each cluster, by item number (1-based)
NAUSEA_ITEMS = {1, 6, 7, 8, 9, 15, 16}
OCULOMOTOR_ITEMS = {1, 2, 3, 4, 5, 9, 11}
DISORIENTATION_ITEMS = {5, 8, 10, 11, 12, 13, 14}


def test_the_shipped_instruments_are_listed_and_load() -> None:
    names = list_instruments()
    assert {"ssq", "sickness", "expectancy", "bat", "questionnaire_template"} <= set(names)
    for name in names:
        assert load_instrument(name).name == name


def test_ssq_has_sixteen_items_scored_0_to_3_and_the_standard_weights_matrix() -> None:
    ssq = load_instrument("ssq")
    assert len(ssq.items) == 16
    assert (ssq.scale.min, ssq.scale.max) == (0, 3)
    for cluster, numbers in (
        ("nausea", NAUSEA_ITEMS),
        ("oculomotor", OCULOMOTOR_ITEMS),
        ("disorientation", DISORIENTATION_ITEMS),
    ):
        loaded = {n for n, item in enumerate(ssq.items, 1) if item.weights.get(cluster) == 1}
        assert loaded == numbers, cluster


def test_ssq_all_zeros_scores_zero() -> None:
    assert score(load_instrument("ssq"), [0] * 16) == {
        "nausea": 0.0,
        "oculomotor": 0.0,
        "disorientation": 0.0,
        "total": 0.0,
    }


def test_ssq_all_threes_is_the_published_maximum() -> None:
    # each cluster has 7 items: raw 21; N 21 x 9.54, O 21 x 7.58, D 21 x 13.92, total 63 x 3.74
    scores = score(load_instrument("ssq"), [3] * 16)
    assert scores == pytest.approx(
        {"nausea": 200.34, "oculomotor": 159.18, "disorientation": 292.32, "total": 235.62}
    )


def test_ssq_a_mixed_case_worked_by_hand() -> None:
    # general discomfort 1 (N, O), headache 2 (O), nausea 2 (N, D), dizziness eyes open 1 (D),
    # stomach awareness 3 (N): N = 1 + 2 + 3 = 6, O = 1 + 2 = 3, D = 2 + 1 = 3
    answers = [1, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 3, 0]
    scores = score(load_instrument("ssq"), answers)
    assert scores == pytest.approx(
        {
            "nausea": 6 * 9.54,  # 57.24
            "oculomotor": 3 * 7.58,  # 22.74
            "disorientation": 3 * 13.92,  # 41.76
            "total": 12 * 3.74,  # 44.88
        }
    )


def test_ssq_a_single_item_counts_in_each_of_its_clusters() -> None:
    # item 5, difficulty focusing, at 2: O = 2 and D = 2, nausea untouched
    answers = [0] * 16
    answers[4] = 2
    scores = score(load_instrument("ssq"), answers)
    assert scores == pytest.approx(
        {"nausea": 0.0, "oculomotor": 15.16, "disorientation": 27.84, "total": 14.96}
    )


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ([0] * 15, "needs 16 answers"),
        ([0] * 17, "got 17"),
        ([0] * 15 + [4], "Answer 16 (burping) is 4: it must be a whole number from 0 to 3"),
        ([-1] + [0] * 15, "Answer 1 (general_discomfort) is -1"),
        ([0.5] + [0] * 15, "must be a whole number"),
        ([float("nan")] + [0] * 15, "not a number"),
        ([True] + [0] * 15, "not a number"),
    ],
)
def test_a_wrong_count_or_an_answer_off_the_scale_is_one_sentence(
    answers: list[float], words: str
) -> None:
    with pytest.raises(MeasureError) as err:
        score(load_instrument("ssq"), answers)
    assert isinstance(err.value, UserError)
    assert words in str(err.value)
    assert str(err.value).count(". ") == 0 and str(err.value).endswith(".")


def test_expectancy_violation_is_likelihood_minus_100_times_happened() -> None:
    expectancy = load_instrument("expectancy")
    # 80 % sure it would jump, it did not: disconfirmed by 80
    assert score(expectancy, [80, 0, 60])["violation"] == 80
    # 30 % sure, and it happened: worse than expected by 70
    assert score(expectancy, [30, 1, 90])["violation"] == -70
    # certain and it happened: no violation
    assert score(expectancy, [100, 1, 0]) == {
        "likelihood": 100,
        "happened": 1,
        "surprise": 0,
        "violation": 0,
    }
    with pytest.raises(MeasureError, match="Answer 2 \\(happened\\) is 2: .* from 0 to 1"):
        score(expectancy, [50, 2, 10])


def test_bat_scores_the_highest_step_completed_and_the_suds_at_each() -> None:
    bat = load_instrument("bat")
    assert score(bat, [10, 25, 40, 35]) == {
        "steps_completed": 4,
        "steps_total": 10,
        "suds_peak": 40,
        "suds_at_highest": 35,
    }
    # no step completed: nothing to take a peak of, so no SUDS scores
    assert score(bat, []) == {"steps_completed": 0, "steps_total": 10}
    with pytest.raises(MeasureError, match="10 steps and got 11 answers"):
        score(bat, [0] * 11)


def test_the_template_ships_with_placeholder_items_marked_as_such() -> None:
    template = load_instrument("questionnaire_template")
    assert template.placeholder
    assert all(item.text.startswith("PLACEHOLDER") for item in template.items)


CLINIC_FSQ = """
name = "fsq_clinic"
title = "Our clinic's spider questionnaire"
[scale]
min = 1
max = 7
[[items]]
id = "q1"
text = "Wording the clinic holds the rights to, item 1"
weights = { total = 1, avoid = 1 }
[[items]]
id = "q2"
text = "Wording the clinic holds the rights to, item 2"
weights = { total = 1 }
[[items]]
id = "q3"
text = "Wording the clinic holds the rights to, item 3"
reverse = true
weights = { total = 1, avoid = 2 }
[[scores]]
id = "total"
[[scores]]
id = "avoid"
aggregate = "mean"
[[scores]]
id = "scaled"
of = ["total"]
multiplier = 0.5
offset = -1
"""


def test_a_clinic_made_questionnaire_file_scores(tmp_path: Path) -> None:
    (tmp_path / "fsq_clinic.toml").write_text(CLINIC_FSQ, encoding="utf-8")
    assert "fsq_clinic" in list_instruments([tmp_path])
    fsq = load_instrument("fsq_clinic", [tmp_path])
    # q3 reversed: 1 + 7 - 2 = 6; total 7 + 4 + 6 = 17; avoid mean(7 x 1, 6 x 2) = 9.5
    assert score(fsq, [7, 4, 2]) == {"total": 17, "avoid": 9.5, "scaled": 7.5}


def test_a_clinic_json_file_scores_too(tmp_path: Path) -> None:
    path = tmp_path / "aq.json"
    path.write_text(
        '{"name": "aq", "title": "AQ", "scale": {"min": 0, "max": 6},'
        ' "items": [{"id": "a", "text": "x", "weights": {"anxiety": 1}},'
        ' {"id": "b", "text": "y", "weights": {"anxiety": 1}}],'
        ' "scores": [{"id": "anxiety"}]}',
        encoding="utf-8",
    )
    assert score(load_instrument_file(path), [6, 5]) == {"anxiety": 11}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name = ", "is not valid TOML"),
        (CLINIC_FSQ.replace('id = "avoid"\n', 'id = "other"\n'), "counts in 'avoid'"),
        (CLINIC_FSQ.replace('of = ["total"]', 'of = ["later"]'), "'later', which is not a score"),
        (CLINIC_FSQ.replace("max = 7", "max = 1"), "must be above its min"),
    ],
)
def test_a_broken_instrument_file_is_one_sentence_naming_it(
    tmp_path: Path, text: str, words: str
) -> None:
    (tmp_path / "fsq_clinic.toml").write_text(text, encoding="utf-8")
    with pytest.raises(MeasureError) as err:
        load_instrument("fsq_clinic", [tmp_path])
    assert "fsq_clinic.toml" in str(err.value) and words in str(err.value)


def test_unknown_or_unsafe_instrument_names_are_refused() -> None:
    with pytest.raises(MeasureError, match="No instrument called 'nope': the instruments are"):
        load_instrument("nope")
    with pytest.raises(MeasureError, match="not an instrument name"):
        load_instrument("../models")


def test_answers_parse_from_commas() -> None:
    assert parse_answers("0, 1,2.5") == [0, 1, 2.5]
    assert parse_answers("") == []
    with pytest.raises(MeasureError, match="Answer 2 is 'x', not a number"):
        parse_answers("1,x")


# --------------------------------------------------------------------------- properties

SSQ = load_instrument("ssq")


@settings(max_examples=200)
@given(st.lists(st.integers(0, 3), min_size=16, max_size=16))
def test_property_ssq_scores_are_the_weighted_raw_sums(answers: list[int]) -> None:
    raw = {
        name: sum(answers[n - 1] for n in items)
        for name, items in (
            ("nausea", NAUSEA_ITEMS),
            ("oculomotor", OCULOMOTOR_ITEMS),
            ("disorientation", DISORIENTATION_ITEMS),
        )
    }
    scores = score(SSQ, answers)
    assert scores == pytest.approx(
        {
            "nausea": raw["nausea"] * 9.54,
            "oculomotor": raw["oculomotor"] * 7.58,
            "disorientation": raw["disorientation"] * 13.92,
            "total": sum(raw.values()) * 3.74,
        }
    )
    assert 0 <= scores["total"] <= 235.62 + 1e-9


@settings(max_examples=200)
@given(
    st.lists(st.integers(0, 3), min_size=16, max_size=16),
    st.integers(0, 15),
    st.one_of(st.integers(-100, -1), st.integers(4, 100), st.floats(0.01, 2.99)),
)
def test_property_any_answer_off_the_scale_is_refused_by_its_number(
    answers: list[int], index: int, bad: float
) -> None:
    if isinstance(bad, float) and bad.is_integer():
        return
    answers = [*answers[:index], bad, *answers[index + 1 :]]  # type: ignore[list-item]
    with pytest.raises(MeasureError, match=f"^Answer {index + 1} \\("):
        score(SSQ, answers)
