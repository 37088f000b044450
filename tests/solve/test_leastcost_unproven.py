"""Least cost after an unproven coverage stage (issue 14): when --gap or the clock stops stage 1
short of a proof, stages 2-4 get COST_SHARE of stage 1's time, or the run's deadline if sooner;
after a proof the same share with a floor of PROVEN_COST_MIN_S."""

from __future__ import annotations

import pytest

from lifecircle.optimizer.core.deadline import Deadline
from lifecircle.optimizer.solve.backends import SolveOptions
from lifecircle.optimizer.solve.leastcost import COST_SHARE, PROVEN_COST_MIN_S, TIE_MIN_S, canonical_clock


def test_the_cost_stages_get_a_share_of_stage_one():
    options = canonical_clock(SolveOptions(gap=0.01), 20.0)
    assert options.gap == 0.01 and options.deadline is not None
    assert options.deadline.remaining() == pytest.approx(COST_SHARE * 20.0, abs=0.5)
    tiny = canonical_clock(SolveOptions(), 0.01)
    assert tiny.deadline.remaining() == pytest.approx(TIE_MIN_S, abs=0.1)


def test_an_earlier_run_deadline_wins_and_a_later_one_is_cut():
    soon = SolveOptions(deadline=Deadline(1.0))
    assert canonical_clock(soon, 20.0).deadline is soon.deadline
    late = SolveOptions(deadline=Deadline(600.0))
    assert canonical_clock(late, 20.0).deadline.remaining() == pytest.approx(COST_SHARE * 20.0, abs=0.5)


def test_after_a_proven_stage_one_the_share_has_a_floor():
    # the dense 100k x 2,000 district: coverage proven in about 100 s, least cost then unbounded
    long = canonical_clock(SolveOptions(), 200.0, proven=True)
    assert long.deadline.remaining() == pytest.approx(COST_SHARE * 200.0, abs=0.5)
    short = canonical_clock(SolveOptions(), 1.0, proven=True)
    assert short.deadline.remaining() == pytest.approx(PROVEN_COST_MIN_S, abs=0.5)
    soon = SolveOptions(deadline=Deadline(5.0))
    assert canonical_clock(soon, 200.0, proven=True).deadline is soon.deadline
