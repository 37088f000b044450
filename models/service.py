r"""Realistic service: capacities, distance decay and equity, in the budgeted multi-type model.

This extends :mod:`models.coverage` (same sets, data, facility columns :math:`x_{jk}`, budget,
one-per-site, must_open and min_open rows) for problems that carry decay weights, capacities or
fairness demands. A problem with none of them is built by :mod:`models.coverage` unchanged.
The decay weights themselves are computed in :mod:`models.decay`, and the maximin column and its
two-stage solve live in :mod:`models.maximin`.

Decay (gradual cover)
---------------------
A pair :math:`(i,g)` reached by facility column :math:`f=(j,k)` gets the weight
:math:`d_{if} \in (0,1]` of the walking time :math:`t` (minutes) to it:

* ``step``: :math:`d = 1` for :math:`t \le` ``zero_minutes`` (today's rule);
* ``linear``: :math:`d = 1` up to ``full_minutes`` :math:`F`, then :math:`(Z - t)/(Z - F)`, 0 at
  ``zero_minutes`` :math:`Z`;
* ``exponential``: :math:`d = 1` up to :math:`F`, then :math:`e^{-\beta (t - F)}` up to and
  including :math:`Z`, 0 beyond.

A pair counts with the weight of its best open facility (or :math:`b_{ig}`, the best weight of an
existing uncapacitated facility): :math:`\max(b_{ig}, \max_{f\ \mathrm{open}} d_{if})`. This is the
gradual-cover objective of Berman, Krass and Drezner (2003; Drezner, Wesolowsky and Drezner 2004;
Berman, Drezner and Krass 2010), linearised by *levels* instead of by enumeration. For a pair
(after merging, a class :math:`c`) let :math:`w^1 > w^2 > \dots > w^L > b` be the distinct weights
of the facilities that reach it, :math:`S_l = \{f: d_{cf} = w^l\}` and :math:`w^{L+1} = b`. With
:math:`u_{cl} \in [0,1]` meaning "some facility of weight :math:`\ge w^l` is open":

.. math::

    \max\ & \sum_{c,l} W_c\,(w^l - w^{l+1})\,u_{cl} + \sum_{i,g} w_g p_{ig} b_{ig} \\
    \text{s.t. } & u_{cl} \le u_{c,l-1} + \sum_{f \in S_l} x_f && (u_{c0} = 0)

By induction :math:`u_{cl} \le \min(1, \sum_{f \in S_1 \cup \dots \cup S_l} x_f)`, so for binary
:math:`x` the telescoping sum is exactly :math:`W_c(\max(b, \max_{\mathrm{open}} d) - b)`, and
:math:`u` is 0/1 at an optimum (``integral_optimum``). The chained rows keep the size at one row
per level and one nonzero per (class, facility) plus two per level: the same nonzeros as the
coverage model. With only step weights there is one level per class and the rows are exactly the
coverage rows :math:`y_c \le \sum_f a_{cf} x_f`.

Capacities (assignment)
-----------------------
A group :math:`g` is *capacitated* when some type serving it, or some existing facility, has a
finite capacity :math:`q` for it. Its people are assigned, and may be split: :math:`z_{cf} \ge 0`
people of class :math:`c` (points of group :math:`g` with identical reach rows, and the same
circle when per-circle equity is asked) go to facility :math:`f`. Assignment columns exist only
for pairs within reach, with gain :math:`d_{cf} - b_c > 0`:

.. math::

    \max\ & \sum_{c,f} w_g (d_{cf} - b_c)\, z_{cf} \\
    \text{s.t. } & \sum_f z_{cf} \le P_c && \text{(supply; implied by the column bound when } c
        \text{ reaches one facility)} \\
    & \sum_c z_{cf} \le q_f\, x_f && \forall \text{ new } f \\
    & \sum_c z_{ce} \le q_e && \forall \text{ existing } e \text{ with finite capacity}

A new facility without a capacity for a capacitated group gets :math:`q_f` = the people it can
reach, which never binds. Existing capacitated facilities are always open; what they serve before
the plan is their own optimum (``evaluate`` of the empty plan), and in the plan people may move
from an existing facility to a new one when that serves more weighted people (with step weights
some optimum always keeps every existing facility at least as busy: augmenting paths never
unload a sink arc). For fixed :math:`x`
each group is a transportation problem (totally unimodular), so with integer people and
capacities some optimal :math:`z` is integral (``integral_optimum``); when people or capacities
are fractional, or per-circle equity couples circles through a shared facility, it need not be,
and the model says so (CP-SAT then declines instead of answering a different question).

Linking rows
------------
The capacity row is the only link between :math:`z` and :math:`x`, with :math:`q_f` acting as a
big-M (first tightened to the people :math:`f` can reach). Two families of valid rows strengthen
the LP relaxation without changing the MILP optimum (for binary :math:`x` each is implied by
the capacity and supply rows): per class, :math:`\sum_{f\ \mathrm{new}} z_{cf} \le
\sum_f \min(P_c, q_f)\, x_f`; per pair, :math:`z_{cf} \le \min(P_c, q_f)\, x_f` (which implies
the class row). :func:`linking_rule` says when they are added; tests check both against brute force.

Equity
------
The covered share of a set :math:`s` (a group, or a circle pooling every group of positive weight)
is :math:`(B_s + \sum_v a_{sv} v) / N_s`, with :math:`N_s` its people, :math:`B_s` what uncapacitated
existing facilities give it, and :math:`a_{sv}` people × weight step of level columns and gains of
assignment columns. A floor :math:`\sigma` adds :math:`\sum_v a_{sv} v \ge \sigma N_s - B_s`; sets with
no people are skipped. ``maximin`` adds a column :math:`\tau` and rows
:math:`N_s \tau - \sum_v a_{sv} v \le B_s`: the first solve maximises :math:`\tau`, the second
fixes :math:`\tau \ge \tau^*` and maximises the objective above. When every :math:`N_s` is an
integer and every :math:`a_{sv}, B_s` a multiple of :math:`1/D` (:math:`D = 10^d`), the column is
:math:`\tau' = L\tau` with :math:`L = D\,\mathrm{lcm}(N_s) \le` ``MAXIMIN_SCALE_LIMIT`` and the rows
are multiplied by :math:`L/N_s`: :math:`\tau'` is then integral at the optimum, exact for every
backend, and :math:`\tau'^*` can be fixed without a tolerance.

Merging
-------
Pairs whose weighted reach rows (facility, weight) and base :math:`b` are identical merge into one
class (for levels, across points and groups; for assignment, within a group and, with per-circle
equity, within a circle). Rows are hashed by (column, weight-code) keys and every merge is then
verified entry by entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lifecircle.models.aggregate import identical_row_classes
from lifecircle.models.coverage import facility_columns
from lifecircle.models.linear import MAXIMIZE, LinearModel, stack_rows
from lifecircle.models.maximin import is_integral, maximin_rows


@dataclass(frozen=True)
class ServiceIndex:
    """How the service model's columns map back to the problem.

    ``x_site, x_type``: facility columns (as :class:`models.coverage.CoverageIndex`). Levels:
    ``level_entries`` (levels × facility columns, 1 where the facility opens that level),
    ``level_first`` (True for a class's first level). ``t_col``/``t_scale``: the maximin column
    (value = share × t_scale) or None. ``set_*``: the equity sets (groups then circles) with
    their people ``set_people``, uncapacitated-existing part ``set_before`` and coefficient rows
    ``set_rows`` over all columns.
    """

    x_site: np.ndarray
    x_type: np.ndarray
    level_entries: sp.csr_matrix
    level_first: np.ndarray
    n_assign: int
    t_col: int | None
    t_scale: float
    maximin_sets: np.ndarray  # indices into the equity sets used by the maximin rows
    set_names: tuple
    set_people: np.ndarray
    set_before: np.ndarray
    set_rows: sp.csr_matrix
    n_pairs: int
    n_pairs_open: int
    n_level_classes: int
    n_assign_classes: int
    constant: float
    # per capacitated group: (g, points, class of each point, class rows G over [x | existing],
    # existing indices, people share of each point in its class, first z column)
    assign_parts: tuple = ()

    @property
    def n_x(self) -> int:
        return int(self.x_site.size)

    @property
    def n_levels(self) -> int:
        return int(self.level_first.size)

    def stats(self) -> dict:
        return {
            "facility_columns": self.n_x,
            "demand_pairs": self.n_pairs,
            "demand_pairs_open": self.n_pairs_open,
            "demand_classes": self.n_level_classes + self.n_assign_classes,
            "coverage_nonzeros": int(self.level_entries.nnz),
            "level_columns": self.n_levels,
            "assignment_classes": self.n_assign_classes,
            "assignment_columns": self.n_assign,
            "maximin": self.t_col is not None,
        }


def _selection(x_site, x_type, n_sites, n_types):
    n_x = x_site.size
    out = {}
    for k in range(n_types):
        cols = np.flatnonzero(x_type == k)
        out[k] = sp.csr_matrix((np.ones(cols.size), (x_site[cols], cols)), shape=(n_sites, n_x))
    return out


def _weights_over_columns(problem, g, rows, selection, n_x) -> sp.csr_matrix:
    """(len(rows) × facility columns) decay weight of each facility column for group g."""
    M = sp.csr_matrix((rows.size, n_x))
    for k in np.flatnonzero(problem.serves[:, g]):
        M = M + problem.weight_of(int(k), g)[rows] @ selection[int(k)]
    M = sp.csr_matrix(M)
    M.sum_duplicates()
    return M


def _keep_above(M: sp.csr_matrix, base: np.ndarray) -> sp.csr_matrix:
    """Entries of M strictly above the row's base weight (the others add nothing)."""
    M = sp.csr_matrix(M)
    row_of = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    M.data = np.where(M.data > base[row_of], M.data, 0.0)
    M.eliminate_zeros()
    return M


def _set_membership(problem, points, groups, n_sets_groups):
    """(pairs × sets) people of each pair in its group set and its circle set."""
    n = points.size
    people = problem.people[points, groups]
    cols = [groups]
    rows = [np.arange(n)]
    if problem.circle is not None:
        cols.append(n_sets_groups + problem.circle[points])
        rows.append(np.arange(n))
    n_sets = n_sets_groups + (len(problem.circle_names) if problem.circle is not None else 0)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    return sp.csr_matrix((np.tile(people, len(rows)), (r, c)), shape=(n, n_sets))


# "auto" linking (measured, benchmarks/README.md "Capacities at planning size"): per-class rows
# up to this many (class, new facility) assignment columns; per-pair rows only on request.
CLASS_LINK_LIMIT = 50_000
LINKING = ("auto", "none", "class", "pair")


def linking_rule(linking: str, n_new_pairs: int) -> tuple[bool, bool]:
    """(per-class rows, per-pair rows) for ``linking`` and a model with ``n_new_pairs``
    (class, new facility) assignment columns.

    ``auto``: per-class rows when ``n_new_pairs <= CLASS_LINK_LIMIT``, never per-pair rows. On a
    1,000-point generated district (5,510 columns) per-class rows halved the time to prove the
    optimum (58 s to 30 s) and per-pair rows gave the same LP bound at four times the LP time; on
    ``yuzhong_capacity`` (271,212 columns) per-class rows moved the LP bound 13,127.7 to 13,124.1
    and per-pair rows to 13,105.8, but the LP took 12 and 20 times as long and neither MILP got
    closer to a proof within 120 s.
    """
    if linking not in LINKING:
        raise ValueError(f"linking must be one of {LINKING}, got {linking!r}")
    if linking == "auto":
        return n_new_pairs <= CLASS_LINK_LIMIT, False
    return linking in ("class", "pair"), linking == "pair"


def build_service_model(problem, linking: str = "auto") -> tuple[LinearModel, ServiceIndex]:
    """Build the MILP above from a :class:`optimizer.problem.CoverageProblem` (arrays only).

    Parameters
    ----------
    problem : the instance.
    linking : which linking rows tie assignments to facility columns (see "Linking rows" in the
        module docstring): ``"none"``, ``"class"``, ``"pair"`` (both), or ``"auto"`` (the rule
        :func:`linking_rule` states).
    """
    cost = problem.cost_cny
    n_i, n_g = problem.people.shape
    n_sites, n_types = cost.shape
    x_site, x_type = facility_columns(cost, problem.forbidden)
    n_x = x_site.size
    selection = _selection(x_site, x_type, n_sites, n_types)
    weighted = problem.weighted_people()
    base = problem.level_before()
    active = weighted > 0
    constant = float((weighted * base)[active].sum())
    n_pairs = int(np.count_nonzero(active))
    cap_groups = problem.capacitated_groups()
    equity = problem.equity
    circle_key = equity is not None and equity.needs_circles
    type_cap = problem.type_capacity()

    # ---- every pair of the objective, for the equity sets
    all_groups, all_points = np.nonzero(active.T)
    membership_all = _set_membership(problem, all_points, all_groups, n_g)
    set_people = np.asarray(membership_all.sum(axis=0)).ravel()
    set_before = membership_all.T @ base[all_points, all_groups]

    # ---- uncapacitated groups: level classes
    lvl_blocks, lvl_base, lvl_weight, lvl_points, lvl_groups = [], [], [], [], []
    for g in np.flatnonzero(~cap_groups):
        rows = np.flatnonzero(active[:, g] & (base[:, g] < 1))
        M = _keep_above(_weights_over_columns(problem, g, rows, selection, n_x), base[rows, g])
        lvl_blocks.append(M)
        lvl_base.append(base[rows, g])
        lvl_weight.append(weighted[rows, g])
        lvl_points.append(rows)
        lvl_groups.append(np.full(rows.size, g))
    if lvl_blocks:
        R = sp.vstack(lvl_blocks, format="csr")
        pair_base = np.concatenate(lvl_base)
        pair_weight = np.concatenate(lvl_weight)
        pair_point = np.concatenate(lvl_points)
        pair_group = np.concatenate(lvl_groups)
    else:
        R = sp.csr_matrix((0, n_x))
        pair_base = pair_weight = np.zeros(0)
        pair_point = pair_group = np.zeros(0, dtype=np.int64)
    n_pairs_open = int(pair_weight.size)
    reachable = np.diff(R.indptr) > 0
    R, pair_base, pair_weight = R[reachable], pair_base[reachable], pair_weight[reachable]
    pair_point, pair_group = pair_point[reachable], pair_group[reachable]
    # the base weight is part of a class's identity: one extra column carrying b (when b > 0)
    with_base = sp.hstack([R, sp.csr_matrix((pair_base, (np.arange(R.shape[0]), np.zeros(R.shape[0], int))),
                                            shape=(R.shape[0], 1))], format="csr")
    with_base.eliminate_zeros()
    class_of, rep = identical_row_classes(with_base, by_value=True)
    n_lc = rep.size
    C = sp.csr_matrix(R[rep])
    C.sort_indices()
    class_base = pair_base[rep]
    class_weight = np.bincount(class_of, weights=pair_weight, minlength=n_lc)
    to_class = sp.csr_matrix((np.ones(class_of.size), (class_of, np.arange(class_of.size))), shape=(n_lc, class_of.size))
    class_sets = to_class @ _set_membership(problem, pair_point, pair_group, n_g)  # (classes × sets)

    row_of = np.repeat(np.arange(n_lc), np.diff(C.indptr))
    order = np.lexsort((-C.data, row_of))
    r, v, col = row_of[order], C.data[order], C.indices[order]
    new = np.ones(r.size, dtype=bool)
    new[1:] = (r[1:] != r[:-1]) | (v[1:] != v[:-1])
    level_of_entry = np.cumsum(new) - 1
    n_u = int(new.sum())
    level_class = r[new]
    level_value = v[new]
    level_first = np.ones(n_u, dtype=bool)
    level_first[1:] = level_class[1:] != level_class[:-1]
    level_last = np.ones(n_u, dtype=bool)
    level_last[:-1] = level_class[1:] != level_class[:-1]
    next_value = np.empty(n_u)
    next_value[:-1] = level_value[1:]
    next_value[level_last] = class_base[level_class[level_last]]
    level_step = level_value - next_value
    level_entries = sp.csr_matrix((np.ones(r.size), (level_of_entry, col)), shape=(n_u, n_x))

    # ---- capacitated groups: assignment classes
    z_class_blocks = []  # per group: (class gain rows over x | existing, supply, group, circle key)
    n_ac_total = 0
    existing_cols = []  # (group, existing index) of each existing-capacity node, in order
    z_parts = []
    for g in np.flatnonzero(cap_groups):
        rows = np.flatnonzero(active[:, g] & (base[:, g] < 1))
        b = base[rows, g]
        M = _keep_above(_weights_over_columns(problem, g, rows, selection, n_x), b)
        if problem.existing_capacity is not None:
            ex = np.flatnonzero(np.isfinite(problem.existing_capacity[:, g]))
            E = _keep_above(problem.existing_reach[g][rows][:, ex], b) if g in problem.existing_reach \
                else sp.csr_matrix((rows.size, ex.size))
        else:
            ex = np.zeros(0, dtype=np.int64)
            E = sp.csr_matrix((rows.size, 0))
        gain = sp.hstack([M, E], format="csr")
        gain.data = gain.data - b[np.repeat(np.arange(rows.size), np.diff(gain.indptr))]
        reach = np.diff(gain.indptr) > 0
        rows, gain = rows[reach], gain[reach]
        n_pairs_open += int(reach.size)
        key = problem.circle[rows] if (circle_key and problem.circle is not None) else np.zeros(rows.size, int)
        n_keys = int(key.max(initial=-1)) + 1
        tagged = sp.hstack([gain, sp.csr_matrix((np.ones(rows.size), (np.arange(rows.size), key)),
                                                shape=(rows.size, max(n_keys, 1)))], format="csr")
        class_of_g, rep_g = identical_row_classes(tagged, by_value=True) if rows.size else (np.zeros(0, int), np.zeros(0, int))
        G = sp.csr_matrix(gain[rep_g])
        G.sort_indices()
        supply = np.bincount(class_of_g, weights=problem.people[rows, g], minlength=rep_g.size)
        to_cls = sp.csr_matrix((np.ones(rows.size), (class_of_g, np.arange(rows.size))), shape=(rep_g.size, rows.size))
        sets_g = to_cls @ _set_membership(problem, rows, np.full(rows.size, g), n_g)
        # every person of a class is in one group and (with circle_key) one circle: set shares
        # of a class's people are its supply, so a unit of z adds `gain` to each of its sets
        share = sp.diags(1.0 / np.maximum(supply, 1e-300)) @ sets_g
        point_share = problem.people[rows, g] / np.maximum(supply[class_of_g], 1e-300)
        z_parts.append((g, G, supply, share, ex, rows, class_of_g, point_share))
        n_ac_total += rep_g.size
        existing_cols.extend((g, int(e)) for e in ex)

    # ---- columns: x | u (levels) | z (assignments) | t
    n_z = int(sum(part[1].nnz for part in z_parts))
    assign_parts = []
    z0 = n_x + n_u
    maximin = equity.maximin if equity is not None else None
    n_t = 1 if maximin else 0
    n_cols = n_x + n_u + n_z + n_t

    # objective
    c = np.zeros(n_cols)
    c[n_x:n_x + n_u] = class_weight[level_class] * level_step
    col_upper = np.ones(n_cols)
    col_lower = np.zeros(n_cols)
    must = problem.must_open[x_site] == x_type
    col_lower[:n_x][must] = 1.0
    integrality = np.zeros(n_cols, dtype=bool)
    integrality[:n_x] = True

    # level rows: u_l - u_{l-1} - sum_{f in S_l} x_f <= 0
    prev = np.flatnonzero(~level_first)
    U = sp.csr_matrix(
        (np.concatenate([np.ones(n_u), -np.ones(prev.size)]),
         (np.concatenate([np.arange(n_u), prev]), np.concatenate([np.arange(n_u), prev - 1]))),
        shape=(n_u, n_u))
    level_rows = sp.hstack([-level_entries, U, sp.csr_matrix((n_u, n_z + n_t))], format="csr")

    # assignment rows
    supply_blocks, cap_blocks, cap_rhs_blocks, ex_blocks, ex_rhs, z_set_blocks = [], [], [], [], [], []
    link_class_blocks, link_pair_blocks = [], []
    n_new_pairs = int(sum(int(np.count_nonzero(part[1].indices < n_x)) for part in z_parts))
    per_class, per_pair = linking_rule(linking, n_new_pairs)
    integral_flow = True
    offset_z = z0
    for g, G, supply, share, ex, points, class_of_g, point_share in z_parts:
        assign_parts.append((int(g), points, class_of_g, G, ex, point_share, offset_z))
        nnz_row = np.diff(G.indptr)
        z_cols = offset_z + np.arange(G.nnz)
        z_row = np.repeat(np.arange(G.shape[0]), nnz_row)
        c[z_cols] = problem.group_weight[g] * G.data
        col_upper[z_cols] = supply[z_row]
        multi = np.flatnonzero(nnz_row > 1)
        S = sp.csr_matrix((np.ones(G.nnz), (z_row, z_cols)), shape=(G.shape[0], n_cols))
        supply_blocks.append((S[multi], supply[multi]))
        # capacity of new facility columns serving g
        is_new = G.indices < n_x
        fcol = G.indices[is_new]
        used = np.unique(fcol)
        if used.size:
            q = type_cap[x_type[used], g]
            reach_people = np.bincount(fcol, weights=supply[z_row[is_new]], minlength=n_x)[used]
            # a facility never serves more than the people it reaches: the big-M at its smallest
            q = np.minimum(q, reach_people)
            pos = np.searchsorted(used, fcol)
            flow = sp.csr_matrix((np.ones(fcol.size), (pos, z_cols[is_new])), shape=(used.size, n_cols))
            link = sp.csr_matrix((-q, (np.arange(used.size), used)), shape=(used.size, n_cols))
            cap_blocks.append(flow + link)
            if not is_integral(q):
                integral_flow = False
            # linking: a pair's flow is at most min(P_c, q_f) x_f, a class's flow to new
            # facilities at most the sum of those over the facilities reaching it
            m_cf = np.minimum(supply[z_row[is_new]], q[pos])
            new_rows = z_row[is_new]
            if per_class:
                cls, cls_row = np.unique(new_rows, return_inverse=True)
                link_class_blocks.append(
                    sp.csr_matrix((np.ones(fcol.size), (cls_row, z_cols[is_new])), shape=(cls.size, n_cols))
                    + sp.csr_matrix((-m_cf, (cls_row, fcol)), shape=(cls.size, n_cols)))
            if per_pair:
                pr = np.arange(fcol.size)
                link_pair_blocks.append(
                    sp.csr_matrix((np.ones(fcol.size), (pr, z_cols[is_new])), shape=(fcol.size, n_cols))
                    + sp.csr_matrix((-m_cf, (pr, fcol)), shape=(fcol.size, n_cols)))
        ecol = G.indices[~is_new] - n_x
        eused = np.unique(ecol)
        if eused.size:
            pos = np.searchsorted(eused, ecol)
            ex_blocks.append(sp.csr_matrix((np.ones(ecol.size), (pos, z_cols[~is_new])), shape=(eused.size, n_cols)))
            q_e = problem.existing_capacity[ex[eused], g]
            ex_rhs.append(q_e)
            if not is_integral(q_e):
                integral_flow = False
        if not is_integral(supply):
            integral_flow = False
        # equity: a unit of z adds its gain to each set of its class
        z_set_blocks.append(sp.csr_matrix((G.data, (z_cols - z0, z_row)), shape=(n_z, G.shape[0])) @ share)
        offset_z += G.nnz

    def rows_or_empty(blocks):
        return sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n_cols))

    supply_rows = rows_or_empty([m for m, _ in supply_blocks])
    supply_rhs = np.concatenate([s for _, s in supply_blocks]) if supply_blocks else np.zeros(0)
    cap_rows = rows_or_empty(cap_blocks)
    ex_rows = rows_or_empty(ex_blocks)
    ex_rhs = np.concatenate(ex_rhs) if ex_rhs else np.zeros(0)

    # ---- equity sets: coefficient of every column in every set's covered people
    n_sets = class_sets.shape[1]
    set_cols_u = (sp.diags(level_step) @ class_sets[level_class]).T  # (sets × n_u)
    set_cols_z = sp.csr_matrix((n_z, n_sets))
    for block in z_set_blocks:  # each block covers its own group's z rows, zero elsewhere
        set_cols_z = set_cols_z + block
    set_cols_z = set_cols_z.T
    set_rows = sp.hstack([sp.csr_matrix((n_sets, n_x)), set_cols_u, set_cols_z, sp.csr_matrix((n_sets, n_t))],
                         format="csr")
    group_sets = np.arange(n_g)
    circle_sets = np.arange(n_g, n_sets)
    set_names = tuple(problem.group_names) + tuple(problem.circle_names if problem.circle is not None else ())

    floor_rows, floor_lo, floor_names = [], [], []
    if equity is not None:
        floors = np.asarray(equity.min_share, dtype=float)
        wanted = [(s, floors[s]) for s in group_sets if np.isfinite(floors[s]) and set_people[s] > 0]
        if equity.min_share_per_circle is not None:
            wanted += [(s, equity.min_share_per_circle) for s in circle_sets if set_people[s] > 0]
        for s, share in wanted:
            floor_rows.append(int(s))
            floor_lo.append(share * set_people[s] - set_before[s])
    group_floor = [s for s in floor_rows if s < n_g]
    circle_floor = [s for s in floor_rows if s >= n_g]
    lo_of = dict(zip(floor_rows, floor_lo))

    # ---- maximin
    t_col, t_scale = None, 1.0
    maximin_sets = np.zeros(0, dtype=np.int64)
    maximin_row_block = sp.csr_matrix((0, n_cols))
    maximin_rhs = np.zeros(0)
    if maximin:
        sets = group_sets if maximin == "groups" else circle_sets
        maximin_sets = sets[set_people[sets] > 0]
        t_col = n_cols - 1
        # covered people are multiples of 1/D at an optimum only when the assignment is integral
        flows_integral = n_z == 0 or (integral_flow and not circle_key)
        maximin_row_block, maximin_rhs, t_scale, scaled = maximin_rows(
            set_rows, set_people, set_before, maximin_sets, t_col, flows_integral)
        integrality[t_col] = scaled
        col_upper[t_col] = t_scale

    # ---- the rows shared with the coverage model
    per_site = sp.csr_matrix((np.ones(n_x), (x_site, np.arange(n_x))), shape=(n_sites, n_cols))
    shared_sites = np.flatnonzero(np.diff(per_site.indptr) > 1)
    x_cost = cost[x_site, x_type]
    budget_row = sp.csr_matrix((x_cost, (np.zeros(n_x, int), np.arange(n_x))), shape=(1, n_cols))
    per_type = sp.csr_matrix((np.ones(n_x), (x_type, np.arange(n_x))), shape=(n_types, n_cols))
    min_types = np.flatnonzero(problem.min_open > 0)

    A, row_lower, row_upper, row_blocks = stack_rows([
        ("coverage", level_rows, -np.inf, 0.0),
        ("one_per_site", per_site[shared_sites], -np.inf, 1.0),
        ("budget", budget_row, -np.inf, float(problem.budget_cny)),
        ("min_open", per_type[min_types], problem.min_open[min_types].astype(float), np.inf),
        ("supply", supply_rows, -np.inf, supply_rhs),
        ("capacity", cap_rows, -np.inf, 0.0),
        ("existing_capacity", ex_rows, -np.inf, ex_rhs),
        ("link_class", rows_or_empty(link_class_blocks), -np.inf, 0.0),
        ("link_pair", rows_or_empty(link_pair_blocks), -np.inf, 0.0),
        ("equity_group", set_rows[group_floor] if group_floor else sp.csr_matrix((0, n_cols)),
         np.array([lo_of[s] for s in group_floor]), np.inf),
        ("equity_circle", set_rows[circle_floor] if circle_floor else sp.csr_matrix((0, n_cols)),
         np.array([lo_of[s] for s in circle_floor]), np.inf),
        ("maximin", maximin_row_block, -np.inf, maximin_rhs),
    ])

    integral = True
    if n_z:
        integral = integral_flow and not circle_key
    if maximin and not integrality[t_col]:
        integral = False
    model = LinearModel(
        sense=MAXIMIZE, c=c, A=A, row_lower=row_lower, row_upper=row_upper,
        col_lower=col_lower, col_upper=col_upper, integrality=integrality, offset=constant,
        integral_optimum=integral,
        col_blocks={"x": slice(0, n_x), "y": slice(n_x, n_x + n_u), "z": slice(z0, z0 + n_z),
                    "t": slice(n_cols - n_t, n_cols)},
        row_blocks=row_blocks,
    )
    index = ServiceIndex(
        x_site=x_site, x_type=x_type, level_entries=level_entries, level_first=level_first,
        n_assign=n_z, t_col=t_col, t_scale=t_scale, maximin_sets=maximin_sets, set_names=set_names,
        set_people=set_people, set_before=np.asarray(set_before, dtype=float), set_rows=set_rows,
        n_pairs=n_pairs, n_pairs_open=n_pairs_open, n_level_classes=n_lc, n_assign_classes=n_ac_total,
        constant=constant, assign_parts=tuple(assign_parts),
    )
    return model, index


def decode_service(values: np.ndarray, index: ServiceIndex) -> tuple[np.ndarray, np.ndarray]:
    """(site, type) arrays of the facilities a solution opens."""
    chosen = values[: index.n_x] > 0.5
    return index.x_site[chosen], index.x_type[chosen]


def decode_assignment(values: np.ndarray, index: ServiceIndex, n_points: int, n_existing: int) -> dict:
    """{g: (I, n + E) CSR} people assigned per point to each opened facility (in the order
    :func:`decode_service` returns them), then to each existing facility. A class's flow is split
    over its points in proportion to their people, which keeps every point within its supply."""
    chosen = np.flatnonzero(values[: index.n_x] > 0.5)
    n_sel = chosen.size
    plan_pos = np.full(index.n_x, -1, dtype=np.int64)
    plan_pos[chosen] = np.arange(n_sel)
    out = {}
    for g, points, class_of, G, ex, point_share, z_start in index.assign_parts:
        z = np.maximum(values[z_start:z_start + G.nnz], 0.0)
        Zc = sp.csr_matrix((z, G.indices, G.indptr), shape=G.shape)
        Zp = sp.csr_matrix(sp.diags(point_share) @ Zc[class_of])
        Zp.eliminate_zeros()
        colmap = np.concatenate([plan_pos, n_sel + ex])
        row_of = np.repeat(np.arange(Zp.shape[0]), np.diff(Zp.indptr))
        cols = colmap[Zp.indices]
        keep = cols >= 0  # flow to a closed facility is 0 by the capacity rows
        out[g] = sp.csr_matrix((Zp.data[keep], (points[row_of[keep]], cols[keep])), shape=(n_points, n_sel + n_existing))
    return out


def encode_service(site: np.ndarray, type_: np.ndarray, index: ServiceIndex, n_cols: int) -> np.ndarray:
    """A full column vector for a plan (warm start): x, the levels it opens, no assignment, t = 0."""
    n_types = int(max(index.x_type.max(initial=0), np.max(type_, initial=0))) + 1
    column_key = index.x_site * n_types + index.x_type
    wanted = np.asarray(site) * n_types + np.asarray(type_)
    position = np.searchsorted(column_key, wanted)
    if np.any(position >= column_key.size) or np.any(column_key[np.minimum(position, column_key.size - 1)] != wanted):
        raise ValueError("encode_service: a (site, type) in the plan is not an allowed column")
    v = np.zeros(n_cols)
    v[position] = 1.0
    opens = (index.level_entries @ v[: index.n_x]) > 0
    # u_l = 1 from the first opened level of a class onwards (levels of a class are consecutive)
    seg = np.cumsum(index.level_first) - 1
    count = np.cumsum(opens.astype(np.int64))
    start = np.flatnonzero(index.level_first)
    before = np.concatenate([[0], count])[start][seg]
    v[index.n_x:index.n_x + index.n_levels] = ((count - before) > 0).astype(float)
    return v
