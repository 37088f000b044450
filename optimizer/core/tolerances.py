"""Every numerical tolerance of the engine, in one place, with the reason for its size.

Solvers work in floating point: HiGHS and CBC meet rows to about 1e-6 relative, CP-SAT exactly.
A check that is tighter than the solver calls correct plans wrong; one that is looser lets real
errors through. Each constant below says what it compares.
"""

# A relative gap at or below this counts as proven optimal; solvers report bounds in floating point.
GAP_ZERO = 1e-9
# Costs and budgets are in currency units; a cent of float noise is not an overspend.
BUDGET_TOL = 1e-6
# A model's objective and evaluate()'s must agree to this relative tolerance.
OBJECTIVE_TOL = 1e-6
# People in a given assignment may be off by solver tolerance (relative to the largest figure).
ASSIGN_TOL = 1e-6
# Shares are compared with this many people of slack (solver tolerances are ~1e-6 relative).
PEOPLE_TOL = 1e-6
# A LinearModel's rows and bounds count as met within this (absolute) violation.
FEASIBILITY_TOL = 1e-5
