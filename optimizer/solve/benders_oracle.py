"""The assignment LP of :mod:`optimizer.solve.capacity_benders` at a master point, and the cut
it gives, valid for every plan (issue 14, section 5). See that module's docstring for the cut."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.errors import SolverResultError
from lifecircle.optimizer.solve.assignment_lp import SwapLP


class AssignmentOracle:
    """The assignment LP at a master point, and a cut valid for every plan.

    :meth:`solve` takes ``x`` (one value in [0, 1] per facility column, in
    :func:`models.coverage.facility_columns` order). It solves evaluate()'s LP over the facilities
    with ``x > 0`` only (capacities scaled by ``x``; far fewer columns than the MILP's), then
    extends its duals to every facility: a closed facility's capacity dual is the smallest that
    keeps every (point, facility) pair's reduced cost non-positive. The result is
    ``(status, value, constant, coefficients)`` with, for every plan ``x'``,
    ``assignment value(x') <= constant + coefficients @ x'`` (``value`` and the cut leave out the
    uncapacitated groups' levels, which the master carries).
    """

    def __init__(self, problem: CoverageProblem, x_site: np.ndarray, x_type: np.ndarray):
        from lifecircle.optimizer.core.solution import gain_rows

        self.problem = problem
        self.x_site, self.x_type = np.asarray(x_site, np.int64), np.asarray(x_type, np.int64)
        n_x = self.n_x = self.x_site.size
        n_ex = 0 if problem.existing_capacity is None else problem.existing_capacity.shape[0]
        self.n_ex = n_ex
        self.groups = np.flatnonzero(problem.capacitated_groups())
        # every (point, facility column | existing) pair that can gain, per capacitated group
        ent_point, ent_col, ent_gain, ent_group, caps = [], [], [], [], []
        for g in self.groups:
            rows, gain, q = gain_rows(problem, self.x_site, self.x_type, int(g))
            gain = sp.csr_matrix(gain)
            r = np.repeat(np.arange(rows.size), np.diff(gain.indptr))
            ent_point.append(rows[r])
            ent_col.append(gain.indices.astype(np.int64))
            ent_gain.append(gain.data.astype(float))
            ent_group.append(np.full(r.size, g))
            reach = np.bincount(gain.indices, weights=problem.people[rows[r], g], minlength=n_x + n_ex)
            caps.append(np.minimum(q, reach))  # a facility never serves more than it reaches
        self.ent_point = np.concatenate(ent_point)
        self.ent_col = np.concatenate(ent_col)
        self.ent_gain = np.concatenate(ent_gain)
        self.ent_group = np.concatenate(ent_group)
        self.q_eff = {int(g): c for g, c in zip(self.groups, caps)}  # per group: (n_x + n_ex,)
        # entries sorted by (group, column) for per-(facility, group) maxima
        key = self.ent_group * (n_x + n_ex) + self.ent_col
        self.order = np.argsort(key, kind="stable")
        k_sorted = key[self.order]
        new = np.ones(k_sorted.size, dtype=bool)
        new[1:] = k_sorted[1:] != k_sorted[:-1]
        self.seg_start = np.flatnonzero(new)
        self.seg_key = k_sorted[new]
        width = n_x + n_ex
        q_by_group = np.zeros((problem.n_groups, width))
        q_by_group[self.groups] = np.stack([self.q_eff[int(g)] for g in self.groups])
        self.q_by_group = q_by_group  # (G, n_x + n_ex) effective capacity, 0 for uncapacitated groups
        self.seg_q = q_by_group[self.seg_key // width, self.seg_key % width]
        self.circle = problem.circle
        self.solves = 0
        self.seconds = 0.0

    def solve(self, x: np.ndarray):
        import highspy

        t0 = time.perf_counter()
        problem = self.problem
        x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        open_ = np.flatnonzero(x > 1e-9)
        lp = SwapLP(problem, self.x_site[open_], self.x_type[open_], np.zeros(0, np.int64), np.zeros(0, np.int64))
        # (SwapLP's cold solve is by primal simplex: 0.37 CPU s against 0.71 by dual here)
        pairs = lp.capacity_rows()
        if pairs:  # a facility never serves more than it reaches (q_eff)
            cap = np.full(lp.rows[1].stop - lp.rows[1].start, np.inf)
            (pos, groups), r = np.array(list(pairs)).T, np.fromiter(pairs.values(), dtype=np.int64)
            cap[r] = self.q_by_group[groups, open_[pos]]
            lp.limit_capacities(cap)
        total = lp.objective(share=x[open_])
        level = total - self._lp_part(lp)
        self.solves += 1
        self.last = lp
        if lp.n_columns:
            status = lp.highs.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                const, coef = self._feasibility_cut(lp)
                self.seconds += time.perf_counter() - t0
                return "infeasible", None, const, coef, None
        const, coef = self._cut(lp, 1.0)
        self.seconds += time.perf_counter() - t0
        return "optimal", total - level, const, coef, total

    def _feasibility_cut(self, lp):
        """(constant, coefficients) with ``constant + coefficients @ x >= 0`` for every plan some
        assignment makes meet the floors, and < 0 at this one: the duals of the phase-1 LP
        (assignment worth nothing, each floor's shortfall costing 1)."""
        import highspy

        h = lp.highs
        n_z = lp.n_columns
        h.changeColsCost(n_z, np.arange(n_z, dtype=np.int32), np.zeros(n_z))
        floor_rows = lp.rows[2]
        n_f = floor_rows.stop - floor_rows.start
        rows = np.arange(floor_rows.start, floor_rows.stop, dtype=np.int32)
        h.addCols(n_f, -np.ones(n_f), np.zeros(n_f), np.full(n_f, np.inf), n_f,
                  np.arange(n_f, dtype=np.int32), rows, -np.ones(n_f))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolverResultError(f"assignment oracle, phase 1: {h.modelStatusToString(h.getModelStatus())}")
        return self._cut(lp, 0.0, n_z=n_z)

    def _cut(self, lp, weight: float, n_z=None):
        """Extend the LP's duals to every facility and return the cut (constant, coefficients).
        ``weight``: 1 for the assignment's value, 0 for the phase-1 LP (value 0 per person)."""
        problem = self.problem
        n_x, n_ex = self.n_x, self.n_ex
        n_z = lp.n_columns if n_z is None else n_z
        dual = lp.row_duals()
        supply_rows, cap_rows, floor_rows = lp.rows
        n_s = supply_rows.stop
        A = sp.csr_matrix(lp.matrix)
        y = np.abs(dual[n_s:lp.n_rows])
        y[~np.isfinite(y)] = 0.0
        row_up = lp.row_upper()
        n_cap = cap_rows.stop - cap_rows.start
        y_floor = y[n_cap:]
        y_floor[~np.isfinite(row_up[floor_rows])] = 0.0  # a free row carries no dual
        # supply duals of the LP's classes, recomputed: dual-feasible there by construction
        if lp.n_columns:
            reduced = weight * lp.costs - np.asarray(A[n_s:].T @ y).ravel()
            S = A[:n_s]
            col_class = np.repeat(np.arange(n_s), np.diff(S.indptr))
            alpha_class = np.zeros(n_s)
            np.maximum.at(alpha_class, col_class, reduced[S.indices])
        else:
            alpha_class = np.zeros(0)
        alpha = np.zeros((problem.n_points, problem.n_groups))
        offset = 0
        for g, rows, class_of, n_classes in lp.class_blocks:
            alpha[rows, g] = alpha_class[offset + class_of]
            offset += n_classes
        # floor duals per group set and per circle set
        mu_group = np.zeros(problem.n_groups)
        n_circles = len(problem.circle_names) if problem.circle is not None else 0
        mu_circle = np.zeros(max(n_circles, 1))
        for (kind, s, _f), m in zip(lp.floors, y_floor):
            if kind == "g":
                mu_group[s] += m
            else:
                mu_circle[s] += m
        # every pair's reduced cost at beta = 0; beta of (facility, group) = its largest, >= 0
        w = weight * problem.group_weight[self.ent_group] + mu_group[self.ent_group]
        if self.circle is not None:
            w = w + mu_circle[self.circle[self.ent_point]]
        need = w * self.ent_gain - alpha[self.ent_point, self.ent_group]
        seg_max = np.maximum.reduceat(need[self.order], self.seg_start) if need.size else np.zeros(0)
        beta = np.maximum(seg_max, 0.0)
        width = n_x + n_ex
        seg_col = self.seg_key % width
        term = beta * self.seg_q
        coef = np.bincount(seg_col[seg_col < n_x], weights=term[seg_col < n_x], minlength=n_x)
        const = float(term[seg_col >= n_x].sum())
        people = problem.people
        for g in self.groups:
            const += float(alpha[:, g] @ people[:, g])
        if y_floor.size:
            up = row_up[floor_rows]
            fin = np.isfinite(up)
            const += float(y_floor[fin] @ up[fin])
        return const, coef

    @staticmethod
    def _lp_part(lp) -> float:
        return 0.0 if lp.n_columns == 0 else float(lp.highs.getInfo().objective_function_value)
