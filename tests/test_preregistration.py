"""The confirmatory study's analysis is the registered one: on the exploratory study's records, the
scoreboard still gives exactly the fingerprint committed with the pre-registration."""

import json
import math

from causalmix import report
from causalmix.report.registration import FINGERPRINT, PREREGISTRATION, fingerprint, registration_facts


def test_the_registration_and_its_fingerprint_are_committed():
    facts = registration_facts()
    assert PREREGISTRATION.is_file() and FINGERPRINT.is_file() and len(facts["sha256"]) == 64
    text = PREREGISTRATION.read_text()
    assert "Primary outcome" in text and "## Deviations" in text


def test_the_analysis_code_reproduces_the_registered_fingerprint():
    records, curves = report.load_results("standard")
    now = fingerprint(report.scoreboard(records, curves, config="standard", name="standard"))
    registered = json.loads(FINGERPRINT.read_text())
    assert set(now) == set(registered)
    for key, expected in registered.items():
        for field, value in expected.items():
            got = now[key][field]
            if isinstance(value, float) and got is not None:
                assert math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12), f"{key}.{field}: {got} != {value}"
            else:
                assert got == value, f"{key}.{field}: {got!r} != {value!r}"
