"""Statements that nobody has established a case's cause, and what they do to p(unknown)."""

from __future__ import annotations

import numpy as np
import pytest

from agent.classifiers.abstention import UNDETERMINED_ODDS, stated_undetermined
from agent.classifiers.features import case_fragment
from agent.classifiers.undetermined import UNDETERMINED, undetermined_statements
from tests.support.local_cases import make_local_case, message


@pytest.mark.parametrize(
    "text",
    [
        "No BOL and no pickup scan. Can't call it.",
        "Root cause unclear, escalating to the shift lead.",
        "The cause is still not established.",
        "Not sure what's holding this, nothing in the logs.",
        "No idea why the ASN never came through.",
        "Either the loader skipped the scan or the load went on the wrong trailer; I can't tell "
        "which from here.",
        "Not sure if the truck came early or if we just weren't done packing.",
        "Results of the trace are inconclusive.",
        "The facts support neither a transit claim nor our grading with certainty.",
        "It could be any of three things at this point.",
        "Too early to say what happened.",
        "Driver says closed, customer says open. Nobody can say.",
        "No one knows why the ASN never came.",
        "None of us can tell which side dropped it.",
        "IT opened a ticket with the VAN. Cause TBD",
        "Root cause: to be determined.",
        "I don\u2019t know why the order is stuck.",
        "Ursache noch unklar.",
        "No sabemos por qué no salió el pedido.",
        "La cause reste inconnue.",
        "Oorzaak is onbekend.",
    ],
)
def test_a_statement_that_the_cause_is_undetermined_is_found(text: str) -> None:
    """Doubt about what happened, in plain words or the partner languages the cues cover."""
    assert undetermined_statements(text)


@pytest.mark.parametrize(
    "text",
    [
        "Not sure when it will ship, the mill is behind.",
        "No idea when the truck gets in; the driver is stuck at the border.",
        "New temp starts on receiving Monday, not sure if related.",
        "The reason is a customs hold on the lot.",
        "We can't tell you the new date until the supplier confirms.",
        "Credit check could not be completed: account blocked.",
        "Driver couldn't call it in, his phone was dead.",
        "Nobody can say when the truck gets in.",
        "Nobody knows where the pallet went.",
        "ETA TBD, the carrier will confirm.",
    ],
)
def test_doubt_about_a_date_or_a_side_detail_is_not_a_statement_about_the_cause(
    text: str,
) -> None:
    """ "Not sure when it ships" is supplier-delay evidence, not doubt about the cause."""
    assert undetermined_statements(text) == []


def test_the_case_fragment_carries_the_statement_as_a_fact() -> None:
    """The classifier reads it from the fragment, like every other fact of the case."""
    doubtful = make_local_case(messages=[message("Can't call it yet.", "internal")])
    plain = make_local_case(messages=[message("Truck broke down near Reno.", "internal")])
    assert case_fragment(doubtful).facts.get(UNDETERMINED) == 1.0
    assert UNDETERMINED not in case_fragment(plain).facts


def test_the_statement_multiplies_the_odds_of_unknown_and_nothing_else() -> None:
    """Bayes' rule with a set likelihood ratio; a case without the statement keeps its p."""
    p = np.array([0.05, 0.05, 0.5, 0.005])
    stated = np.array([True, False, True, True])
    raised = stated_undetermined(p, stated)
    odds = raised / (1 - raised)
    assert odds[0] == pytest.approx(UNDETERMINED_ODDS * 0.05 / 0.95)
    assert raised[1] == 0.05
    assert raised[0] > 0.5, "a doubtful case with some weakness already becomes unknown"
    assert raised[2] > raised[0]
    assert raised[3] < 0.1, "decisive evidence elsewhere is not overturned by the statement"
