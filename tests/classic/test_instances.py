"""Instance loaders: small files written here, costs checked by hand, every error names file:line."""

from __future__ import annotations

import numpy as np
import pytest

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.classic.formats import (
    load_instance, read_known, read_matrix_csv, read_orlib_pmed, read_site_costs, read_xy_weights,
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def dense(inst):
    table = inst.cost_table()
    d = np.full((inst.n_demand, inst.n_sites), np.inf)
    d[table.demand, table.site] = table.cost
    return d


ORLIB = """ 4 4 2
 1 2 5
 2 3 4
 3 4 1
 1 2 3
"""


def test_orlib_shortest_paths_and_last_duplicate_wins(tmp_path):
    inst = read_orlib_pmed(write(tmp_path, "tiny.txt", ORLIB))
    assert inst.name == "tiny" and inst.p == 2 and inst.site_ids == (1, 2, 3, 4)
    # edge 1-2 is given twice: the last line (cost 3) wins; 1->4 is 3 + 4 + 1
    expected = np.array([[0, 3, 7, 8], [3, 0, 4, 5], [7, 4, 0, 1], [8, 5, 1, 0]], dtype=float)
    assert np.array_equal(dense(inst), expected)
    assert np.array_equal(inst.weights, np.ones(4))


def test_orlib_disconnected_vertices_are_unreachable(tmp_path):
    inst = read_orlib_pmed(write(tmp_path, "cut.txt", "4 2 1\n1 2 5\n3 4 1\n"))
    assert np.isinf(dense(inst)[0, 2]) and dense(inst)[2, 3] == 1


@pytest.mark.parametrize("text, line, words", [
    ("4 4\n1 2 3\n", 1, "n_vertices n_edges p"),
    ("4 2 1\n1 2 5\n2 x 4\n", 3, "'x' is not a number"),
    ("4 2 1\n1 2 5\n2 3\n", 3, "found 2 fields"),
    ("4 2 1\n1 2 5\n2 9 4\n", 3, "vertices in 1..4"),
    ("4 3 1\n1 2 5\n2 3 4\n", 4, "announces 3 edges"),
    ("4 1 1\n1 2 5\n2 3 4\n", 3, "announces 1 edges"),
    ("", 1, "empty"),
])
def test_orlib_malformed_names_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(ScenarioError) as err:
        read_orlib_pmed(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}:") and words in message and "\n" not in message


def test_xy_weights_euclidean_and_kdtree_coverage_agree(tmp_path):
    xy = write(tmp_path, "pts.txt", "3\n0 0\n3 4\n6 8\n")
    w = write(tmp_path, "w.txt", "5\n0\n2\n")
    inst = read_xy_weights(xy, w)
    assert inst.site_ids == (1, 2, 3) and list(inst.weights) == [5, 0, 2]
    d = dense(inst)
    assert d[0, 1] == 5.0 and d[0, 2] == 10.0
    for radius in (0.0, 4.999, 5.0, 10.0):
        kd = inst.coverage(radius).toarray() > 0
        assert np.array_equal(kd, d <= radius)  # inclusive, same floats


def test_xy_weights_errors(tmp_path):
    xy = write(tmp_path, "pts.txt", "3\n0 0\n3 4\n6 8\n")
    with pytest.raises(ScenarioError, match=r"w\.txt:3: expected 3 weights"):
        read_xy_weights(xy, write(tmp_path, "w.txt", "1\n2\n"))
    with pytest.raises(ScenarioError, match=r"w2\.txt:2: a weight must be a number >= 0"):
        read_xy_weights(xy, write(tmp_path, "w2.txt", "1\n-2\n3\n"))
    with pytest.raises(ScenarioError, match=r"p2\.txt:3: expected a point"):
        read_xy_weights(write(tmp_path, "p2.txt", "3\n0 0\n3\n6 8\n"), None)
    with pytest.raises(ScenarioError, match="--weights"):
        read_xy_weights(xy, None)


def test_site_costs_errors(tmp_path):
    from lifecircle.optimizer.classic.formats import read_site_costs

    assert read_site_costs(write(tmp_path, "c.txt", "5\n0\n2.5\n"), (1, 2, 3)).tolist() == [5.0, 0.0, 2.5]
    with pytest.raises(ScenarioError, match=r"^.*c2\.txt:2: a site cost must be a number >= 0$"):
        read_site_costs(write(tmp_path, "c2.txt", "5\n-1\n2\n"), (1, 2, 3))
    with pytest.raises(ScenarioError, match=r"c3\.txt:1: expected one site cost \(1 numbers\)"):
        read_site_costs(write(tmp_path, "c3.txt", "5 6\n1\n2\n"), (1, 2, 3))


CSV = """origin,dest,minutes,pop,capex
a,s1,4,10,100
a,s2,9,10,200
b,s2,2,7,200
c,s1,inf,3,100
"""


def test_matrix_csv_long_format(tmp_path):
    inst = read_matrix_csv(write(tmp_path, "m.csv", CSV), "origin", "dest", "minutes", "pop",
                           "capex")
    assert inst.demand_ids == ("a", "b", "c") and inst.site_ids == ("s1", "s2")
    assert list(inst.weights) == [10, 7, 3] and list(inst.site_costs) == [100, 200]
    d = dense(inst)
    assert d[0, 0] == 4 and np.isinf(d[1, 0]) and np.isinf(d[2]).all()  # missing / inf: unreachable


def test_matrix_csv_errors(tmp_path):
    with pytest.raises(ScenarioError, match=r"m\.csv:1: no column 'time' \(--cost-col\)"):
        read_matrix_csv(write(tmp_path, "m.csv", CSV), "origin", "dest", "time")
    bad = CSV + "a,s1,5,11,100\n"
    with pytest.raises(ScenarioError, match=r"b\.csv:6: weight 11 of 'a' differs from 10 on line 2"):
        read_matrix_csv(write(tmp_path, "b.csv", bad), "origin", "dest", "minutes", "pop")
    dup = CSV + "a,s1,5,10,100\n"
    with pytest.raises(ScenarioError, match=r"d\.csv:6: the pair on this line was already given on "
                                            "line 2"):
        read_matrix_csv(write(tmp_path, "d.csv", dup), "origin", "dest", "minutes", "pop")
    nan = CSV.replace("b,s2,2", "b,s2,two")
    with pytest.raises(ScenarioError, match=r"n\.csv:4: column 'minutes' holds 'two'"):
        read_matrix_csv(write(tmp_path, "n.csv", nan), "origin", "dest", "minutes")


def test_site_costs_file_positional_or_by_id(tmp_path):
    ids = ("s1", "s2")
    assert list(read_site_costs(write(tmp_path, "c.txt", "3\n4\n"), ids)) == [3, 4]
    assert list(read_site_costs(write(tmp_path, "c2.txt", "s2 4\ns1 3\n"), ids)) == [3, 4]
    with pytest.raises(ScenarioError, match=r"c3\.txt:1: unknown site id 's9'"):
        read_site_costs(write(tmp_path, "c3.txt", "s9 4\ns1 3\n"), ids)


def test_known_values_skip_header(tmp_path):
    known = read_known(write(tmp_path, "opt.txt", "Data file   Optimal solution value\npmed1 5819\n"))
    assert known == {"pmed1": 5819.0}


def test_load_instance_unknown_format(tmp_path):
    with pytest.raises(ScenarioError, match="--format"):
        load_instance(write(tmp_path, "x.txt", "1\n0 0\n"), "shapefile")
