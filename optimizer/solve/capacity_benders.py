r"""Capacitated plans by Benders decomposition: the assignment projected out (issue 14, section 5).

The service MILP of :mod:`models.service` carries one assignment column per (merged class,
facility) pair within reach: 271,212 of them on ``scenarios/yuzhong_capacity``, where HiGHS's
root LP alone takes 5-17 s and the proof took 771 s. But for a fixed plan :math:`\bar x` the
assignment is a linear program (the transportation LP of :func:`optimizer.core.solution.evaluate`,
equity floors included), and its optimum :math:`\varphi(\bar x)` is a concave, piecewise-linear
function of the capacities :math:`q_f \bar x_f`. Any dual-feasible solution :math:`(\alpha, \beta,
\mu) \ge 0` of that LP (supply, capacity and floor rows) gives, by weak duality, the cut

.. math::
    \theta \le \sum_c P_c \alpha_c + \sum_{f\ \mathrm{new}} q_f \beta_f\, x_f
        + \sum_{e\ \mathrm{existing}} q_e \beta_e + \sum_s \mu_s r_s ,

valid for **every** plan :math:`x` (a relaxation's dual, not a heuristic), and tight at
:math:`\bar x` when the duals are optimal there. The master keeps only the facility columns (and
the uncapacitated groups' level columns and rows, unchanged), the budget, one-per-site,
must_open and min_open rows, one column :math:`\theta` and the cuts: a few hundred columns.

Exactness does not rest on the solver's duals being exact: the supply duals are recomputed from
the capacity and floor duals (:math:`\alpha_c = \max(0, \max_f (c_{cf} - \beta_f + \mu a_{cf}))`),
which makes every cut dual-feasible by construction, whatever float noise the duals carry. The
capacity :math:`q_f` is first capped at the people :math:`f` reaches (so an unlimited type has a
finite coefficient; a facility never serves more than that). A plan that no assignment can make
meet the equity floors is cut off by a phase-1 cut: the duals of the LP that minimises the floors'
shortfall, extended the same way, give a row every fair plan meets and this one does not.

The loop: first plans (the warm start, else the large route's capacity greedy) are evaluated and
cut; then the master MIP (warm-started from the best plan) is solved, its plan evaluated by the
same LP (over that plan's facilities only) and a cut added there, until the master's bound meets
the best plan's value. (Cuts at the master's LP points first, Kelley's method, were tried: the LP
over many fractionally open facilities is large and slow, and the MIP rounds needed no help: 4
master solves to the proof on yuzhong_capacity.) The least-cost stages reuse the master: cost then
rank (one objective when costs are whole), with coverage held at the optimum, and a no-good row
for the tie check. Every plan's value is ``evaluate()``'s own (the LP is :class:`SwapLP`,
evaluate's rows), and the final plan is verified by ``evaluate()`` with the LP's assignment.

Scope: capacitated problems without ``maximin``, and when equity floors are asked, every group of
positive weight capacitated (so a floor's right-hand side does not depend on the plan's
uncapacitated levels). Otherwise :func:`applies` is False and the MILP route runs.
"""

from __future__ import annotations

import logging
import time
import numpy as np
import scipy.sparse as sp

from lifecircle.optimizer.core import events
from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.solve.backends.watch import muted, relative_gap
from lifecircle.optimizer.solve.benders_oracle import AssignmentOracle

logger = logging.getLogger(__name__)


# The master has one continuous column (theta) and is re-solved many times: HiGHS only (CP-SAT
# declines continuous columns; the other backends keep the MILP route they were tested on).
BACKENDS = ("highs",)


def applies(problem: CoverageProblem, solver: str = "highs") -> bool:
    """True when this route answers exactly the question the service MILP does, with ``solver``."""
    if solver not in BACKENDS:
        return False
    cap = problem.capacitated_groups()
    if not cap.any():
        return False
    equity = problem.equity
    if equity is None:
        return True
    if equity.maximin:
        return False
    floors = np.isfinite(np.asarray(equity.min_share, dtype=float)).any() or equity.min_share_per_circle is not None
    if not floors:
        return True
    active = (problem.weighted_people() > 0).any(axis=0)
    return bool(np.all(cap[active]))


class Master:
    """The master problem: facility and level columns of the service model, its rows that do
    not touch the assignment, a column theta for the assignment's value, and the cuts."""

    def __init__(self, model, theta_upper: float):
        xs = model.col_blocks["x"]
        ys = model.col_blocks["y"]
        self.n_x = xs.stop - xs.start
        self.n_u = ys.stop - ys.start
        keep_cols = np.r_[np.arange(xs.start, xs.stop), np.arange(ys.start, ys.stop)]
        rows = [np.arange(model.row_blocks[b].start, model.row_blocks[b].stop)
                for b in ("coverage", "one_per_site", "budget", "min_open") if b in model.row_blocks]
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        A = sp.csr_matrix(model.A)[rows][:, keep_cols]
        n = keep_cols.size + 1
        self.n_cols = n
        self.theta = n - 1
        self.A = sp.hstack([A, sp.csr_matrix((A.shape[0], 1))], format="csr")
        self.lo = model.row_lower[rows]
        self.hi = model.row_upper[rows]
        self.c = np.append(model.c[keep_cols], 1.0)
        self.col_lower = np.append(model.col_lower[keep_cols], 0.0)
        self.col_upper = np.append(model.col_upper[keep_cols], theta_upper)
        self.integrality = np.append(model.integrality[keep_cols], False)
        self.offset = float(model.offset)
        self.cut_rows, self.cut_hi = [], []
        self.kinds = []  # per cut row: "value", "feasible" or "no_good", with (constant, coefficients)

    def allows(self, x: np.ndarray) -> bool:
        """True when the 0/1 plan x meets the budget, one-per-site, must_open and min_open rows
        (levels and theta at 0 meet the others)."""
        from lifecircle.optimizer.core.tolerances import FEASIBILITY_TOL

        v = np.zeros(self.n_cols)
        v[: self.n_x] = x
        act = self.A @ v
        tol = FEASIBILITY_TOL * np.maximum(1.0, np.abs(self.hi))
        return bool(np.all(act <= np.where(np.isfinite(self.hi), self.hi + tol, np.inf))
                    and np.all(act >= np.where(np.isfinite(self.lo), self.lo - tol, -np.inf))
                    and np.all(v >= self.col_lower - 1e-9) and np.all(v <= self.col_upper + 1e-9))

    def add_cut(self, const: float, coef: np.ndarray) -> None:
        """theta - coef . x <= const."""
        row = np.zeros(self.n_cols)
        row[: self.n_x] = -coef
        row[self.theta] = 1.0
        self.cut_rows.append(sp.csr_matrix(row[None, :]))
        self.cut_hi.append(const)
        self.kinds.append(("value", const, coef))

    def add_feasibility_cut(self, const: float, coef: np.ndarray) -> None:
        """-coef . x <= const (the phase-1 cut: const + coef . x >= 0)."""
        row = np.zeros(self.n_cols)
        row[: self.n_x] = -coef
        self.cut_rows.append(sp.csr_matrix(row[None, :]))
        self.cut_hi.append(const)
        self.kinds.append(("feasible", const, coef))

    def add_no_good(self, x: np.ndarray) -> None:
        """Some facility column differs from the 0/1 plan x."""
        on = x > 0.5
        row = np.zeros(self.n_cols)
        row[: self.n_x] = np.where(on, 1.0, -1.0)
        self.cut_rows.append(sp.csr_matrix(row[None, :]))
        self.cut_hi.append(float(on.sum()) - 1.0)
        self.kinds.append(("no_good", None, None))

    def model(self, integer: bool = True, extra=(), c=None, sense=None):
        """The LinearModel; ``extra``: (coefficients, lower, upper) rows for follow-up stages,
        ``c``/``sense``: their objective (default: maximise coverage)."""
        from lifecircle.models.linear import MAXIMIZE, MINIMIZE, LinearModel

        blocks = [self.A] + self.cut_rows + [sp.csr_matrix(np.asarray(r, float)[None, :]) for r, _, _ in extra]
        A = sp.vstack(blocks, format="csr")
        lo = np.concatenate([self.lo, np.full(len(self.cut_rows), -np.inf), [lo for _, lo, _ in extra]])
        hi = np.concatenate([self.hi, np.asarray(self.cut_hi, dtype=float), [hi for _, _, hi in extra]])
        integrality = self.integrality if integer else np.zeros_like(self.integrality)
        return LinearModel(sense=MAXIMIZE if c is None else (sense or MINIMIZE),
                           c=self.c if c is None else np.asarray(c, dtype=float), A=A, row_lower=lo,
                           row_upper=hi, col_lower=self.col_lower, col_upper=self.col_upper,
                           integrality=integrality, offset=self.offset if c is None else 0.0,
                           col_blocks={"x": slice(0, self.n_x), "y": slice(self.n_x, self.n_x + self.n_u),
                                       "theta": slice(self.theta, self.theta + 1)})


# The last run's cuts, by the data they depend on: the report's re-solves (min_open or must_open
# relaxed, a larger budget) change no assignment LP, so every cut stays valid for them.
_CUTS: dict = {}


def _fingerprint(problem: CoverageProblem, x_site, x_type) -> str:
    """A digest of everything the assignment LP reads (not budget, must_open or min_open)."""
    import hashlib

    h = hashlib.sha256()

    def put(a):
        a = np.ascontiguousarray(np.asarray(a))
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())

    for a in (problem.people, problem.group_weight, problem.serves, problem.type_capacity(), x_site, x_type,
              problem.level_before()):
        put(a)
    if problem.circle is not None:
        put(problem.circle)
    if problem.existing_capacity is not None:
        put(problem.existing_capacity)
        for g in sorted(problem.existing_reach):
            m = sp.csr_matrix(problem.existing_reach[g])
            put(m.indptr), put(m.indices), put(m.data)
    for k in range(problem.n_types):
        for g in range(problem.n_groups):
            if problem.serves[k, g] and (k, g) in problem.coverage:
                m = sp.csr_matrix(problem.weight_of(k, g))
                put(m.indptr), put(m.indices), put(m.data)
    equity = problem.equity
    if equity is not None:
        put(np.asarray(equity.min_share, dtype=float))
        h.update(repr(equity.min_share_per_circle).encode())
    return h.hexdigest()


class BendersLoop:
    """The master, the oracle and the best plan; :meth:`coverage` is stage 1, :meth:`least`
    the least-cost stages (cost, then rank, with coverage held), :meth:`tied` the tie check."""

    def __init__(self, problem: CoverageProblem, model, index, solver: str, options):
        from dataclasses import replace as _replace

        self.problem, self.index, self.solver = problem, index, solver
        self.options = _replace(options, gap=0.0, warm_start=None)
        self.oracle = AssignmentOracle(problem, index.x_site, index.x_type)
        self.n_x = index.n_x
        people_cap = sum(float(problem.weighted_people()[:, g].sum()) for g in self.oracle.groups)
        self.master = Master(model, people_cap)
        self.key = _fingerprint(problem, index.x_site, index.x_type)
        kept = _CUTS.get(self.key, {})
        reused = kept.get("cuts", ())
        for kind, const, coef in reused:
            (self.master.add_cut if kind == "value" else self.master.add_feasibility_cut)(const, coef)
        self.reused = len(reused)
        self.best_x, self.best = None, -np.inf
        # plan bytes -> evaluate() objective (None: no assignment meets the floors); the values
        # and the final plan's LP of the run whose cuts are reused come along with them
        self.values = dict(kept.get("values", {}))
        self.lps, self.best_key = dict(kept.get("lps", {})), None
        self.proposed = set()  # plans this run's masters returned
        self.master_s = 0.0
        self.rounds = 0
        self.t0 = time.perf_counter()

    def keep_cuts(self, x=None, lp=None) -> None:
        _CUTS.clear()
        _CUTS[self.key] = {"cuts": [k for k in self.master.kinds if k[0] != "no_good"],
                           "values": dict(self.values),
                           "lps": {} if x is None or lp is None else {x.tobytes(): lp}}

    def value(self, x: np.ndarray):
        """evaluate()'s objective of the 0/1 plan x (cut added); None when no assignment meets the
        floors (feasibility cut added)."""
        key = x.tobytes()
        if key in self.values:  # its cut is in the master already (this run's or reused)
            total = self.values[key]
        else:
            status, _lp, const, coef, total = self.oracle.solve(x)
            if status != "optimal":
                self.master.add_feasibility_cut(const, coef)
                total = None
            else:
                self.master.add_cut(const, coef)
                # the LPs of the best plan and of the last one, for the final plan's assignment
                self.lps = {k: v for k, v in self.lps.items() if k == self.best_key}
                self.lps[key] = self.oracle.last
            self.values[key] = total
        if total is not None and total > self.best:  # x meets this run's rows (callers see to it)
            self.best, self.best_x, self.best_key = total, x.copy(), key
        return total

    def start(self, x):
        """A master column vector for the 0/1 plan x (a warm start: HiGHS then prunes from its
        value on), or None: theta at the smallest cut there, which the plan's own value meets.
        Only without level columns (their values would need the plan's levels)."""
        master = self.master
        if x is None or master.n_u:
            return None
        v = np.zeros(master.n_cols)
        v[: self.n_x] = x
        tops = [const + coef @ x for kind, const, coef in master.kinds if kind == "value"]
        v[master.theta] = min([master.col_upper[master.theta]] + tops)
        return v

    def _master(self, start=None, **kw):
        from dataclasses import replace as _replace

        from lifecircle.optimizer.solve.linear import solve_linear

        t0 = time.perf_counter()
        # the master's figures are an approximation (its incumbent falls as cuts arrive): the
        # loop reports its own, the best verified plan and the master's bound (_progress)
        with muted():
            res = solve_linear(self.master.model(**kw), self.solver,
                               _replace(self.options, warm_start=self.start(start)))
        self.master_s += time.perf_counter() - t0
        self.rounds += 1
        return res

    def expired(self) -> bool:
        return self.options.deadline is not None and self.options.deadline.expired

    def coverage(self, start_x=None, gap: float = 0.0, max_rounds: int = 400):
        """Stage 1. Returns (bound, proven): the master's bound meets the best plan's value
        (within ``GAP_ZERO``, or ``gap`` relative when asked)."""
        from lifecircle.optimizer.core.status import Status
        from lifecircle.optimizer.core.tolerances import GAP_ZERO

        if start_x is not None:
            self.value(np.asarray(start_x, dtype=float))
        bound = np.inf
        for _ in range(max_rounds):
            if self.expired():
                break
            res = self._master(start=self.best_x)
            if res.status == Status.INFEASIBLE:
                return (self.best, True) if self.best_x is not None else (None, True)
            if res.values is None:
                break
            if res.bound is not None:
                bound = min(bound, res.bound)
            x = np.round(res.values[: self.n_x])
            if self._closed(bound, gap, GAP_ZERO):
                break
            if x.tobytes() in self.proposed or (x.tobytes() in self.values and self.values[x.tobytes()] is not None
                                                and self.values[x.tobytes()] <= self.best):
                # a plan already cut comes back as the master's optimum: its cut is tight there,
                # so the master's bound is that plan's value plus row tolerance (HiGHS meets rows
                # to ~1e-6). Within OBJECTIVE_TOL (the model-vs-evaluate tolerance) that is a proof.
                from lifecircle.optimizer.core.tolerances import OBJECTIVE_TOL

                if self.best_x is not None and bound - self.best <= OBJECTIVE_TOL * max(1.0, abs(self.best)):
                    bound = self.best
                break
            self.proposed.add(x.tobytes())
            self.value(x)
            logger.debug("benders: round %d, best %.4f, bound %.4f", self.rounds, self.best, bound)
            self._progress(bound)
            if self._closed(bound, gap, GAP_ZERO):
                break
        proven = self._closed(bound, 0.0, GAP_ZERO)
        self._progress(bound if not proven else self.best)
        return (max(bound, self.best) if np.isfinite(bound) else None), proven

    def _progress(self, bound: float) -> None:
        """A ``mip`` event in coverage units: the best plan the oracle has verified (it only
        rises) and the master's bound (it only falls)."""
        if not events.watching():
            return
        best = float(self.best) if np.isfinite(self.best) else None
        top = float(bound) if np.isfinite(bound) else None
        if best is not None and top is not None:
            top = max(top, best)
        events.emit("mip", incumbent=best, bound=top, gap=relative_gap(best, top),
                    elapsed_s=time.perf_counter() - self.t0, solver=f"{self.solver} (benders)")

    def _closed(self, bound, gap, zero):
        if self.best_x is None or not np.isfinite(bound):
            return False
        return bound - self.best <= max(zero * max(1.0, abs(self.best)), gap * abs(self.best))

    def coverage_row(self, z_star: float):
        """Coverage at least Z* (with evaluate()'s relative tolerance): a row over the master."""
        from lifecircle.optimizer.core.tolerances import OBJECTIVE_TOL

        tol = OBJECTIVE_TOL * max(1.0, abs(z_star))
        return (self.master.c, z_star - tol - self.master.offset, np.inf), z_star - tol

    def least(self, c: np.ndarray, rows, floor: float, max_rounds: int = 200, start=None):
        """Minimise ``c . x`` over plans meeting ``rows`` and reaching ``floor``: the master
        gives a plan at most as dear as any such plan; it is the answer once the oracle confirms
        its coverage, else its cut is added. Returns (x, value, proven)."""
        from lifecircle.models.linear import MINIMIZE
        from lifecircle.optimizer.core.status import Status

        full = np.zeros(self.master.n_cols)
        full[: self.n_x] = c
        for _ in range(max_rounds):
            if self.expired():
                return None, None, False
            res = self._master(start=start, extra=rows, c=full, sense=MINIMIZE)
            if res.values is None or res.status != Status.OPTIMAL:
                return None, None, False
            x = np.round(res.values[: self.n_x])
            seen = x.tobytes() in self.values
            total = self.value(x)
            if total is not None and total >= floor:
                return x, total, True
            if seen:
                return None, None, False
        return None, None, False

    def tied(self, rows, floor: float, max_rounds: int = 200):
        """Is there a plan meeting ``rows`` (which exclude the chosen plan) and reaching
        ``floor``? True, False, or None (undecided)."""
        from lifecircle.models.linear import MINIMIZE
        from lifecircle.optimizer.core.status import Status

        zero = np.zeros(self.master.n_cols)
        for _ in range(max_rounds):
            if self.expired():
                return None
            res = self._master(extra=rows, c=zero, sense=MINIMIZE)
            if res.status == Status.INFEASIBLE:
                return False
            if res.values is None:
                return None
            x = np.round(res.values[: self.n_x])
            seen = x.tobytes() in self.values
            total = self.value(x)
            if total is not None and total >= floor:
                return True
            if seen:
                return None
        return None


def _cost_then_rank(cost: np.ndarray, rank: np.ndarray, budget: float):
    """``units * R + rank`` with ``units = cost / gcd`` and ``R`` above any rank sum: one more
    unit of cost always outweighs every rank sum, so minimising it is cost first, then rank.
    None when it would not stay exact in a double."""
    priced = cost[cost > 0]
    q = float(np.gcd.reduce(np.round(priced).astype(np.int64))) if priced.size else 1.0
    units = np.round(cost / q)
    r_total = float(rank.sum()) + 1.0
    k_max = min(float(units.sum()), float(np.floor(budget / q + 1e-9)) if np.isfinite(budget) else np.inf)
    if (k_max + 1.0) * r_total >= 2.0**45:
        return None
    return units * r_total + rank


def solve_capacity_benders(problem: CoverageProblem, solver: str, options, warm_start=None):
    """The capacitated service problem by :class:`BendersLoop`, as a checked
    :class:`optimizer.core.solution.Solution` with the least-cost stages of
    :mod:`optimizer.solve.leastcost` (same order: coverage, cost, rank, ties). None when no plan
    was found (the caller then runs the MILP)."""
    from lifecircle.models.service import build_service_model
    from lifecircle.optimizer.core.solution import Solution, check_bound, check_objective, evaluate
    from lifecircle.optimizer.core.status import BoundSource, Status, Termination
    from lifecircle.optimizer.core.tolerances import BUDGET_TOL
    from lifecircle.optimizer.solve.backends.base import relative_gap
    from lifecircle.optimizer.solve.leastcost import Stage, column_ranks

    t0 = time.perf_counter()
    model, index = build_service_model(problem, linking="none")
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    loop = BendersLoop(problem, model, index, solver, options)
    n_x = index.n_x
    start_x = None
    if warm_start is not None:
        key = index.x_site * problem.n_types + index.x_type
        want = np.asarray(warm_start[0]) * problem.n_types + np.asarray(warm_start[1])
        pos = np.searchsorted(key, want)
        if np.all(pos < key.size) and np.all(key[np.minimum(pos, key.size - 1)] == want):
            start_x = np.zeros(n_x)
            start_x[pos] = 1.0
            if not loop.master.allows(start_x):
                start_x = None
    if n_x and start_x is None:
        # the capacity-aware greedy of the large route (milliseconds) as a first plan too: on
        # yuzhong_capacity it halves the master solves to the proof (8 to 4)
        from lifecircle.optimizer.solve.capacity_large import greedy_capacity_plan

        g_site, g_type = greedy_capacity_plan(problem)
        key = index.x_site * problem.n_types + index.x_type
        pos = np.searchsorted(key, g_site * problem.n_types + g_type)
        greedy_x = np.zeros(n_x)
        greedy_x[np.minimum(pos, n_x - 1)] = 1.0
        if np.array_equal(key[np.minimum(pos, n_x - 1)], g_site * problem.n_types + g_type) \
                and loop.master.allows(greedy_x):
            loop.value(greedy_x)
    bound, proven = loop.coverage(start_x, gap=float(options.gap or 0.0))
    if loop.best_x is None:
        return None
    z_star = loop.best
    stages = [Stage("coverage", Status.OPTIMAL if proven else Status.FEASIBLE, z_star, bound,
                    relative_gap(z_star, bound), BoundSource.MIP if bound is not None else None,
                    solves=loop.rounds, seconds=time.perf_counter() - t1)]
    x = loop.best_x
    canonical = False
    if proven and options.canonical:
        cost = problem.cost_cny[index.x_site, index.x_type].astype(float)
        rank = column_ranks(index.x_site, index.x_type, problem.n_types).astype(float)
        cover_row, floor = loop.coverage_row(z_star)
        whole = bool(np.all(cost == np.round(cost)))
        slack = 0.5 if whole else BUDGET_TOL * max(1.0, float(cost @ x))
        t_s = time.perf_counter()
        combined = _cost_then_rank(cost, rank, problem.budget_cny) if whole else None
        # the status line shows these stages by name: their masters minimise money, not coverage
        events.phase(logger, "phase.stage_cost", "least cost: stage %s", "cost")
        if combined is not None:
            # cost then rank in one exact objective (whole costs; as leastcost.single_objective)
            x2, _v, ok = loop.least(combined, [cover_row], floor, start=x)
        else:
            x2, _v, ok = loop.least(cost, [cover_row], floor, start=x)
        if ok:
            x = x2
        spent = float(cost @ x)
        stages.append(Stage("cost", Status.OPTIMAL if ok else Status.FEASIBLE, spent, spent if ok else None,
                            0.0 if ok else None, BoundSource.MIP if ok else None, exact=False,
                            seconds=time.perf_counter() - t_s))
        if ok:
            t_s = time.perf_counter()
            cost_row = (np.r_[cost, np.zeros(loop.master.n_cols - n_x)], -np.inf, spent + slack)
            if combined is None:
                events.phase(logger, "phase.stage_rank", "least cost: stage %s", "rank")
                x3, _v, ok = loop.least(rank, [cover_row, cost_row], floor, start=x)
                if ok:
                    x = x3
            rank_sum = float(rank @ x)
            stages.append(Stage("rank", Status.OPTIMAL if ok else Status.FEASIBLE, rank_sum,
                                rank_sum if ok else None, 0.0 if ok else None, BoundSource.MIP if ok else None,
                                exact=False, solves=0 if combined is not None else 1,
                                seconds=time.perf_counter() - t_s))
            if ok:
                t_s = time.perf_counter()
                rank_row = (np.r_[rank, np.zeros(loop.master.n_cols - n_x)], -np.inf, rank_sum + 0.5)
                on = x > 0.5
                no_good = (np.r_[np.where(on, -1.0, 1.0), np.zeros(loop.master.n_cols - n_x)],
                           1.0 - float(on.sum()), np.inf)
                events.phase(logger, "phase.stage_ties", "least cost: stage %s", "ties")
                other = loop.tied([cover_row, cost_row, rank_row, no_good], floor)
                done = other is False
                stages.append(Stage("ties", Status.OPTIMAL if done else Status.FEASIBLE, rank_sum,
                                    rank_sum if done else None, 0.0 if done else None,
                                    BoundSource.CERTIFICATE if done else None,
                                    seconds=time.perf_counter() - t_s))
                canonical = done
    # the plan, its assignment from the oracle's LP, verified by evaluate()
    lp = loop.lps.get(x.tobytes())
    if lp is None:  # its LP was not kept: solve it again
        loop.values.pop(x.tobytes(), None)
        if loop.value(x) is None:
            return None
        lp = loop.oracle.last
    loop.keep_cuts(x, lp)
    chosen = np.flatnonzero(x > 0.5)
    site, type_ = index.x_site[chosen], index.x_type[chosen]
    assignment = lp.assignment()
    evaluation = evaluate(problem, site, type_, assignment=assignment)
    solve_s = time.perf_counter() - t1
    if not evaluation.feasible:
        raise SolverResultError(f"benders: plan fails evaluate(): {evaluation.violations[0]}")
    objective = float(evaluation.objective)
    check_objective(problem, objective, objective, f"{solver} (benders): model")
    gap = relative_gap(objective, bound)
    status = Status.OPTIMAL if proven and gap == 0.0 else Status.FEASIBLE
    if status == Status.OPTIMAL:
        bound = objective
    elif bound is not None:
        check_bound(problem, objective, bound, f"{solver} (benders):")
    termination = Termination.OPTIMAL if status == Status.OPTIMAL else (
        Termination.GAP_LIMIT if options.gap and bound is not None else Termination.TIME_LIMIT)
    stats = index.stats() | {
        "rows": loop.master.A.shape[0] + len(loop.master.cut_rows), "columns": loop.master.n_cols,
        "nonzeros": int(loop.master.A.nnz), "canonical": canonical,
        "stages": [one.as_dict() for one in stages],
        "benders": {"master_solves": loop.rounds, "cuts": len(loop.master.cut_rows), "cuts_reused": loop.reused,
                    "assignment_lps": loop.oracle.solves, "assignment_s": round(loop.oracle.seconds, 3),
                    "master_s": round(loop.master_s, 3)},
    }
    message = (f"benders: {loop.rounds} master solves, {loop.oracle.solves} assignment LPs, "
               f"{len(loop.master.cut_rows)} cuts ({loop.reused} reused)")
    events.note(logger, f"phase.benders_{'optimal' if status == Status.OPTIMAL else 'feasible'}",
                 "capacities by Benders: %s; coverage %s", message, status, rounds=loop.rounds,
                 lps=loop.oracle.solves, cuts=len(loop.master.cut_rows), reused=loop.reused)
    return Solution(status=status, backend=solver, objective=objective, bound=bound, gap=relative_gap(objective, bound),
                    site=site, type=type_, spent_cny=evaluation.spent_cny,
                    timings_s={"build": build_s, "solve": solve_s}, message=message, model_stats=stats,
                    evaluation=evaluation, termination=termination,
                    bound_source=(BoundSource.MIP if bound is not None else None))
