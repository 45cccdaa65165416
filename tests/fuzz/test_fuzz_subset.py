"""A small deterministic subset of the fuzz harness (``python scripts/fuzz.py`` runs the full
one). Select with ``-m fuzz``; every case must end in a clean refusal or a confirmed
acceptance: no traceback, hang, crash or wrong acceptance."""

from __future__ import annotations

import pytest

from fuzz.driver import failures, run_family, table, warm_up
from fuzz.runner import Case, Special, run_case

pytestmark = pytest.mark.fuzz
CASES = {"images": 6, "arrays": 6, "datasets": 5, "bundles": 10, "options": 6}


@pytest.fixture(scope="module")
def warm():
    warm_up()


@pytest.mark.parametrize("family", sorted(CASES))
def test_family_subset_has_no_failure(warm, family):
    results = run_family(family, CASES[family], rng_seed=20260101, timeout=120)
    assert results, "hypothesis drew no case"
    bad = failures(results)
    assert not bad, "\n".join(f"{r.outcome}: {r.case.name}: {r.detail}" for r in bad) + \
        "\n" + table(results)


def test_the_runner_sees_tracebacks_hangs_and_wrong_acceptances(warm):
    """The harness itself can fail: a crashing call, a blocking read and an accepted bad
    input are each classified as failures."""
    crash = Case("self", "raises", ["x"], call="json:loads")
    assert run_case(crash).outcome == "traceback"
    hang = run_case(Case("self", "blocks", ["{dir}/f"], {"f": Special("fifo")},
                         call="fuzz.tests_support:read_all"), timeout=2)
    assert hang.outcome == "hang"
    wrong = Case("self", "accepts", ["--threads", "1", "patterns"], expect="refuse")
    assert run_case(wrong).outcome == "wrongly accepted"
