"""Safety screening, screening currency and the pre-session checklist."""

from __future__ import annotations

from datetime import date

import pytest

from config import clinical_data
from service.rules import checklist, screening
from service.rules.errors import RuleInputError
from service.rules.screening import Clearance

ALL_NO = {i.id: "no" for i in clinical_data.screening().items}
CLEAR = Clearance("Dr Shah", "seizure 20 years ago, none since, off medication", date(2025, 6, 1))


def test_all_no_is_cleared() -> None:
    result = screening.evaluate(ALL_NO)
    assert result.status == "cleared" and not result.absolute and not result.relative
    assert result.questionnaire_version == clinical_data.screening().version


@pytest.mark.parametrize("item", ["implant_within_30cm", "cochlear_implant", "neurostimulator", "shunt"])
def test_absolute_contraindications(item: str) -> None:
    result = screening.evaluate({**ALL_NO, item: "yes"})
    assert result.status == "absolute_contraindication"
    assert [f.item_id for f in result.absolute] == [item]


def test_absolute_cannot_be_cleared() -> None:
    result = screening.evaluate({**ALL_NO, "cochlear_implant": "yes"}, clearances={"cochlear_implant": CLEAR})
    assert result.status == "absolute_contraindication"


@pytest.mark.parametrize(
    "item", ["seizure_history", "seizure_threshold_drugs", "pregnancy", "bipolar_history", "substance_use"]
)
def test_relative_needs_a_psychiatrists_clearance(item: str) -> None:
    pending = screening.evaluate({**ALL_NO, item: "yes"})
    assert pending.status == "needs_clearance" and [f.item_id for f in pending.uncleared] == [item]
    cleared = screening.evaluate({**ALL_NO, item: "yes"}, clearances={item: CLEAR})
    assert cleared.status == "cleared" and cleared.relative[0].cleared


@pytest.mark.parametrize("item", ["implant_within_30cm", "cochlear_implant", "neurostimulator", "shunt"])
def test_unsure_about_an_absolute_item_blocks_like_yes_until_checked(item: str) -> None:
    unsure = screening.evaluate({**ALL_NO, item: "unsure"})
    assert unsure.status == "absolute_contraindication" and unsure.absolute[0].unsure
    assert screening.evaluate({**ALL_NO, item: "unsure"}, checked={item: "no"}).status == "cleared"
    assert screening.evaluate({**ALL_NO, item: "unsure"}, checked={item: "yes"}).status == "absolute_contraindication"


def test_unsure_about_a_relative_item_needs_a_clearance() -> None:
    assert screening.evaluate({**ALL_NO, "pregnancy": "unsure"}).status == "needs_clearance"


def test_only_an_unsure_answer_takes_a_checked_answer() -> None:
    with pytest.raises(RuleInputError):
        screening.evaluate({**ALL_NO, "shunt": "yes"}, checked={"shunt": "no"})


def test_none_items_raise_nothing() -> None:
    assert screening.evaluate({**ALL_NO, "eeg_before": "yes"}).status == "cleared"


def test_unanswered_items_make_it_incomplete() -> None:
    answers = dict(ALL_NO)
    del answers["pregnancy"]
    result = screening.evaluate(answers)
    assert result.status == "incomplete" and result.missing_items == ("pregnancy",)


@pytest.mark.parametrize(
    ("answers", "kwargs", "field"),
    [
        ({**ALL_NO, "pregnancy": "maybe"}, {}, "answers.pregnancy"),
        ({**ALL_NO, "tattoo": "no"}, {}, "answers.tattoo"),
        (ALL_NO, {"questionnaire_version": "ifcn-1999"}, "questionnaire_version"),
        (
            ALL_NO,
            {"clearances": {"pregnancy": Clearance("Dr Shah", " ", date(2025, 6, 1))}},
            "clearances.pregnancy.reason",
        ),
    ],
)
def test_invalid_input(answers: dict[str, str], kwargs: dict, field: str) -> None:
    with pytest.raises(RuleInputError) as err:
        screening.evaluate(answers, **kwargs)
    assert err.value.field == field


def test_currency() -> None:
    assert screening.currency(date(2025, 4, 28), for_current_course=True).current  # intake screen
    retreat = screening.currency(date(2025, 1, 1), for_current_course=False, is_retreatment=True)
    assert not retreat.current and "retreatment" in retreat.reasons[0]
    med = screening.currency(date(2025, 5, 1), for_current_course=True, medication_changes=(date(2025, 5, 10),))
    assert not med.current and "medications changed" in med.reasons[0]
    earlier = screening.currency(date(2025, 5, 1), for_current_course=True, medication_changes=(date(2025, 4, 10),))
    assert earlier.current


ALL_OK = {
    "hearing_protection": "yes",
    "sleep_loss": "no",
    "alcohol_or_drugs": "no",
    "caffeine": "no",
    "medication_change": "no",
    "new_symptoms": "no",
    "seizure_or_fainting": "no",
    "coil_position_confirmed": "yes",
}


def test_checklist() -> None:
    ok = checklist.evaluate(ALL_OK)
    assert ok.complete and not ok.blocking and not ok.flags
    no_plugs = checklist.evaluate({**ALL_OK, "hearing_protection": "no"})
    assert no_plugs.blocking and "hearing protection" in no_plugs.blocking[0]
    flagged = checklist.evaluate({**ALL_OK, "sleep_loss": "yes", "medication_change": "yes"})
    assert flagged.flags == {"sleep_deprivation", "medication_change"}
    assert checklist.evaluate({}).missing == tuple(ALL_OK)
    with pytest.raises(RuleInputError) as err:
        checklist.evaluate({**ALL_OK, "caffeine": "lots"})
    assert err.value.field == "checklist.caffeine"


@pytest.mark.parametrize("item", ["sleep_loss", "alcohol_or_drugs", "medication_change", "new_symptoms",
                                  "seizure_or_fainting"])
def test_answers_that_matter_wait_for_an_acknowledgement(item: str) -> None:
    pending = checklist.evaluate({**ALL_OK, item: "yes"})
    assert [r.item_id for r in pending.unacknowledged] == [item] and pending.unacknowledged[0].why
    assert not checklist.evaluate({**ALL_OK, item: "yes"}, acknowledged={item}).unacknowledged
    assert not checklist.evaluate({**ALL_OK, "caffeine": "yes"}).review


def test_coil_position_not_confirmed_blocks() -> None:
    assert checklist.evaluate({**ALL_OK, "coil_position_confirmed": "no"}).blocking
