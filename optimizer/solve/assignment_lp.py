r"""The report's swap figures under capacities: one persistent, warm-started assignment LP.

For a capacitated plan the report asks, per selected facility :math:`f` with a best alternative
:math:`a`, what the plan would cover with :math:`f` swapped for :math:`a`. That objective is
:func:`optimizer.core.solution.evaluate`'s: the uncapacitated groups' levels plus the optimum of
the transportation LP of the capacitated groups (with the equity floors when the problem has
them). Solving one cold LP per swap cost 119 s of 148 s on ``scenarios/yuzhong_capacity``.

Here the LP is built once over every facility that any swap opens (the plan's and the
alternatives), with one capacity row per (facility, capacitated group) whose upper bound is its
capacity when the facility is open and 0 when it is closed. A swap changes four row bounds
(and the equity floors' right-hand sides, which depend on the uncapacitated levels of the
swapped plan), and HiGHS re-solves from the previous basis by dual simplex: a few dozen pivots
instead of a cold solve.

Points are merged first (per group, and per circle when there are circle floors) when their gain
rows over these facilities are identical, by value: exact for the fractional assignment, since a
merged class's flow splits back over its points in proportion to their people and meets every
row the points meet. The figures equal the cold LPs' (``tests/outputs/test_swaps.py``).

:meth:`SwapLP.assignment` returns the last solve's assignment split back over the points, in the
form :func:`evaluate` verifies (``optimizer/solve/capacity_large.py`` uses it for the plan itself).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes
from lifecircle.models.linear import MAXIMIZE, LinearModel
from lifecircle.optimizer.core.problem import CoverageProblem
from lifecircle.optimizer.core.solution import gain_rows, uncapacitated_levels
from lifecircle.optimizer.core.shares import circle_totals, group_totals
from lifecircle.optimizer.core.tolerances import PEOPLE_TOL
from lifecircle.optimizer.errors import SolverResultError


class SwapLP:
    """The capacitated groups' assignment LP over a plan and its alternatives, kept in one
    ``highspy.Highs`` across swaps.

    Parameters
    ----------
    problem : a problem with capacitated groups.
    site, type_ : (n,) the plan.
    alt_site, alt_type : (m,) the facilities swaps may open (not in the plan).

    :meth:`objective` gives what :func:`evaluate` reports for the plan with facility ``f``
    (position in the plan) replaced by alternative ``a`` (position in the alternatives).
    """

    def __init__(self, problem: CoverageProblem, site, type_, alt_site, alt_type):
        from lifecircle.optimizer.solve.backends.highs import highs_with

        self.problem = problem
        self.site = np.asarray(site, dtype=np.int64)
        self.type = np.asarray(type_, dtype=np.int64)
        self.alt_site = np.asarray(alt_site, dtype=np.int64)
        self.alt_type = np.asarray(alt_type, dtype=np.int64)
        n, m = self.site.size, self.alt_site.size
        fac_site = np.concatenate([self.site, self.alt_site])
        fac_type = np.concatenate([self.type, self.alt_type])
        n_fac = n + m
        equity = problem.equity
        by_circle = (equity is not None and equity.min_share_per_circle is not None
                     and problem.circle is not None)

        # per capacitated group: merged classes, then columns z (class, facility)
        supply_rows, supply_rhs = [], []
        set_coef = []  # (kind, set, column indices, coefficients) for the equity floors
        self.cap_row_of = {}  # (facility position, g) -> row index (in capacity block order)
        self._groups = np.flatnonzero(problem.capacitated_groups())
        blocks = []
        for g in self._groups:
            rows, gain, q = gain_rows(problem, fac_site, fac_type, int(g))  # evaluate()'s own rows
            reach = np.diff(gain.indptr) > 0
            rows, gain = rows[reach], gain[reach]
            key = problem.circle[rows] if by_circle else np.zeros(rows.size, dtype=np.int64)
            n_keys = int(key.max(initial=0)) + 1
            tagged = sp.hstack([gain, sp.csr_matrix((np.ones(rows.size), (np.arange(rows.size), key)),
                                                    shape=(rows.size, n_keys))], format="csr")
            class_of, rep = identical_row_classes(tagged, by_value=True)
            G = sp.csr_matrix(gain[rep])
            G.sort_indices()
            supply = np.bincount(class_of, weights=problem.people[rows, g], minlength=rep.size)
            blocks.append((int(g), rows, class_of, rep, G, supply, q, key[rep]))
        self._blocks = blocks
        n_z = sum(b[4].nnz for b in blocks)
        c = np.zeros(n_z)
        cap_r, cap_c, cap_up = [], [], []
        n_cap = 0
        start = 0
        for g, rows, class_of, rep, G, supply, q, class_key in blocks:
            z_row = np.repeat(np.arange(G.shape[0]), np.diff(G.indptr))
            cols = start + np.arange(G.nnz)
            c[cols] = problem.group_weight[g] * G.data
            supply_rows.append(sp.csr_matrix((np.ones(G.nnz), (z_row, cols)), shape=(G.shape[0], n_z)))
            supply_rhs.append(supply)
            fac = G.indices
            used = np.unique(fac)
            for f in used:  # one row per (facility, g) used: a few hundred at most
                if f >= n_fac and not np.isfinite(q[f]):
                    continue  # an existing facility without a limit: no row (evaluate has none)
                if f < n_fac:
                    self.cap_row_of[(int(f), g)] = n_cap
                cap_up.append(q[f])
                hit = cols[fac == f]
                cap_r.append(np.full(hit.size, n_cap))
                cap_c.append(hit)
                n_cap += 1
            set_coef.append((g, cols, G.data, class_key[z_row]))
            start += G.nnz
        self._set_coef = set_coef
        cap_up = np.asarray(cap_up, dtype=float)
        cap_matrix = sp.csr_matrix((np.ones(sum(r.size for r in cap_r)),
                                    (np.concatenate(cap_r) if cap_r else np.zeros(0, int),
                                     np.concatenate(cap_c) if cap_c else np.zeros(0, int))),
                                   shape=(n_cap, n_z))
        S = sp.vstack(supply_rows, format="csr") if supply_rows else sp.csr_matrix((0, n_z))
        s_rhs = np.concatenate(supply_rhs) if supply_rhs else np.zeros(0)

        # equity floors (evaluate's with_equity rows, without a maximin level): coefficient rows
        # here, right-hand sides per swap
        self._floors = []  # (kind, set, floor)
        floor_rows = []
        if equity is not None:
            for gg, floor in enumerate(np.asarray(equity.min_share, dtype=float)):
                if np.isfinite(floor):
                    self._floors.append(("g", gg, float(floor)))
            if equity.min_share_per_circle is not None and problem.circle is not None:
                self._floors += [("c", cc, float(equity.min_share_per_circle))
                                 for cc in range(len(problem.circle_names))]
        for kind, s, _ in self._floors:
            coef = np.zeros(n_z)
            for g, cols, d, key in set_coef:
                if kind == "g":
                    mine = np.full(cols.size, g == s)
                else:
                    mine = key == s
                coef[cols[mine]] = d[mine]
            floor_rows.append(sp.csr_matrix(-coef[None, :]))
        F = sp.vstack(floor_rows, format="csr") if floor_rows else sp.csr_matrix((0, n_z))
        A = sp.vstack([S, cap_matrix, F], format="csr")
        self._cap0 = S.shape[0]
        self._floor0 = self._cap0 + n_cap
        self._cap_full = cap_up
        upper = np.concatenate([s_rhs, cap_up, np.full(F.shape[0], np.inf)])
        model = LinearModel(sense=MAXIMIZE, c=c, A=A, row_lower=np.full(A.shape[0], -np.inf), row_upper=upper,
                            col_lower=np.zeros(n_z), col_upper=np.full(n_z, np.inf),
                            integrality=np.zeros(n_z, dtype=bool))
        self.n_columns, self.n_rows = n_z, A.shape[0]
        self._A, self._c = A, c  # kept for Benders cuts: see `matrix`, `costs`
        self.n_classes = int(sum(b[3].size for b in blocks))
        self.n_points = int(sum(b[1].size for b in blocks))
        self.highs = highs_with(model)
        self.highs.setOptionValue("time_limit", np.inf)
        # the first (cold) solve by primal simplex, the warm re-solves by dual simplex: on
        # yuzhong_capacity's next-budget LP the cold solve took 0.70 CPU s against 2.34 (5,303 dual
        # iterations), and the warm ones stay at ~0.1 s
        self.highs.setOptionValue("simplex_strategy", 4)
        self._cold = True
        self._current = np.array(upper[self._cap0:self._floor0])
        self._n = n

    # The LP's structure and last duals, for the Benders cuts of optimizer/solve/benders_oracle.py:
    # rows are the supply rows (one per merged class, groups in `class_blocks` order), then the
    # capacity rows, then the equity floors (one per entry of `floors`).
    @property
    def matrix(self) -> sp.csr_matrix:
        """(n_rows, n_columns) constraint matrix."""
        return self._A

    @property
    def costs(self) -> np.ndarray:
        """(n_columns,) objective coefficient of each assignment column."""
        return self._c

    @property
    def rows(self) -> tuple[slice, slice, slice]:
        """(supply, capacity, floors) row ranges."""
        return slice(0, self._cap0), slice(self._cap0, self._floor0), slice(self._floor0, self.n_rows)

    @property
    def floors(self) -> tuple:
        """(kind, set, floor) of each floor row: kind "g" a group's share, "c" a circle's."""
        return tuple(self._floors)

    @property
    def class_blocks(self) -> tuple:
        """Per capacitated group, in supply-row order: (g, rows, class_of, n_classes), the group's
        points with a facility in reach, the merged class (supply row within the group) of each,
        and the number of classes."""
        return tuple((g, rows, class_of, rep.size) for g, rows, class_of, rep, *_ in self._blocks)

    def limit_capacities(self, upper: np.ndarray) -> None:
        """Lower each capacity row's open limit to at most ``upper`` (one per capacity row);
        takes effect from the next :meth:`objective`."""
        self._cap_full = np.minimum(self._cap_full, np.asarray(upper, dtype=float))

    def capacity_rows(self) -> dict:
        """{(facility position, g): capacity row (0-based within the capacity rows)}."""
        return dict(self.cap_row_of)

    def row_duals(self) -> np.ndarray:
        """(n_rows,) row duals of the last solve (empty without columns)."""
        return np.asarray(self.highs.getSolution().row_dual, dtype=float) if self.n_columns else np.zeros(0)

    def row_upper(self) -> np.ndarray:
        """(n_rows,) row upper bounds as last solved (capacities and floors change per call)."""
        if not self.n_columns:
            return np.zeros(0)
        return np.asarray(self.highs.getLp().row_upper_, dtype=float)[: self.n_rows]

    def _plan(self, f: int | None, a: int | None, extra=()):
        keep = np.ones(self._n, dtype=bool)
        if f is not None:
            keep[f] = False
        site, type_ = self.site[keep], self.type[keep]
        opened = list(extra) + ([] if a is None else [a])
        if opened:
            site = np.append(site, self.alt_site[opened])
            type_ = np.append(type_, self.alt_type[opened])
        return site, type_

    def _uncapacitated_level(self, site, type_):
        """(I, G) levels with the capacitated groups at their base (as evaluate's LP sees them)."""
        return uncapacitated_levels(self.problem, site, type_)

    def objective(self, f: int | None = None, a: int | None = None, extra=(), share=None) -> float:
        """evaluate(problem, plan without facility f, with alternative a).objective; ``extra``:
        positions of alternatives also open (facilities added to the plan, issue 14's next
        budget). ``share``: (n,) share in [0, 1] of each plan facility's capacity that is open
        (the Benders master's fractional points, capacity_benders.py); 1 when None."""
        import highspy

        problem = self.problem
        upper = np.zeros(self._current.size)
        open_ = np.zeros(self._n + self.alt_site.size, dtype=bool)
        open_[: self._n] = True
        if f is not None:
            open_[f] = False
        if a is not None:
            open_[self._n + a] = True
        open_[self._n + np.asarray(list(extra), dtype=np.int64)] = True
        for (pos, g), r in self.cap_row_of.items():
            upper[r] = (self._cap_full[r] if share is None or pos >= self._n else self._cap_full[r] * share[pos]) \
                if open_[pos] else 0.0
        fixed = np.ones(upper.size, dtype=bool)
        fixed[list(self.cap_row_of.values())] = False
        upper[fixed] = self._cap_full[fixed]
        changed = np.flatnonzero(upper != self._current)
        h = self.highs
        if changed.size:
            h.changeRowsBounds(int(changed.size), (self._cap0 + changed).astype(np.int32),
                               np.full(changed.size, -np.inf), upper[changed])
            self._current = upper
        site, type_ = self._plan(f, a, extra)
        level = self._uncapacitated_level(site, type_)
        constant = float((problem.weighted_people() * level).sum())
        if self._floors:
            g_cov, g_people = group_totals(problem, level)
            c_cov, c_people = circle_totals(problem, level)
            idx, rhs = [], []
            for i, (kind, s, floor) in enumerate(self._floors):
                cov, people = (g_cov[s], g_people[s]) if kind == "g" else (c_cov[s], c_people[s])
                idx.append(self._floor0 + i)
                # evaluate skips sets without people: a free row
                rhs.append(cov - floor * people + 0.5 * PEOPLE_TOL * max(1.0, people) if people > 0 else np.inf)
            h.changeRowsBounds(len(idx), np.asarray(idx, dtype=np.int32), np.full(len(idx), -np.inf),
                               np.asarray(rhs, dtype=float))
        if self.n_columns == 0:
            return constant
        h.run()
        if self._cold:
            h.setOptionValue("simplex_strategy", 1)
            self._cold = False
        status = h.getModelStatus()
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return constant  # evaluate: no assignment meets the floors, capacitated groups stay at base
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverResultError(f"swap LP: {h.modelStatusToString(status)}")
        return constant + float(h.getInfo().objective_function_value)

    def assignment(self, extra=()) -> dict:
        """{g: (I, n + m + E) CSR} people of each point assigned to each plan facility, then to
        each alternative of ``extra`` (in that order, m of them), then to each existing facility,
        from the last :meth:`objective` call with every plan facility open (``f`` and ``a``
        None, the same ``extra``). A class's flow splits over its points in proportion to people."""
        problem = self.problem
        n, n_fac = self._n, self._n + self.alt_site.size
        n_ex = 0 if problem.existing_capacity is None else problem.existing_capacity.shape[0]
        values = np.asarray(self.highs.getSolution().col_value, dtype=float) if self.n_columns else np.zeros(0)
        alt_col = np.full(n_fac - n, -1)
        alt_col[np.asarray(list(extra), dtype=np.int64)] = n + np.arange(len(extra))
        n = n + len(extra)
        colmap = np.concatenate([np.arange(self._n), alt_col, n + np.arange(n_ex)])
        out, start = {}, 0
        for g, rows, class_of, rep, G, supply, q, key in self._blocks:
            z = np.maximum(values[start:start + G.nnz], 0.0)
            start += G.nnz
            Zc = sp.csr_matrix((z, G.indices, G.indptr), shape=G.shape)
            share = problem.people[rows, g] / np.maximum(supply[class_of], 1e-300)
            Zp = sp.csr_matrix(sp.diags(share) @ Zc[class_of])
            Zp.eliminate_zeros()
            row_of = np.repeat(np.arange(Zp.shape[0]), np.diff(Zp.indptr))
            cols = colmap[Zp.indices]
            keep = cols >= 0  # alternatives are closed: no flow
            out[g] = sp.csr_matrix((Zp.data[keep], (rows[row_of[keep]], cols[keep])),
                                   shape=(problem.n_points, n + n_ex))
        return out
