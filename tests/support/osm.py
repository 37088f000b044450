"""A second, deliberately plain reading of an OSM extract for tests/inputs/test_osm_network.py.

It shares nothing with lifecircle's reader but the file: osmium's callback ``SimpleHandler``
(every node's location and every highway way's tags and node list, in Python dicts), the walking
rules written out again as an if-chain from FORMAT.md's table, and the cutting at junctions done
way by way with a ``Counter``. lifecircle's reader instead takes locations from libosmium's index,
filters in C++ and cuts with numpy. Agreement of the two on a real extract is what the counts
in the tests rest on.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

WALKED = {"footway", "path", "pedestrian", "steps", "corridor", "living_street", "residential",
          "service", "track", "unclassified", "road", "tertiary", "tertiary_link", "secondary",
          "secondary_link", "primary", "primary_link"}
WALKED_WITH_FOOT = {"trunk", "trunk_link", "cycleway", "bridleway"}
FOOT_YES = {"yes", "designated", "permissive"}


def rule(tags: dict):
    """Walk factor per FORMAT.md's OSM table, or None."""
    highway, foot, access = tags.get("highway"), tags.get("foot"), tags.get("access")
    if foot in ("no", "private", "use_sidepath"):
        return None
    if highway in WALKED_WITH_FOOT:
        if foot not in FOOT_YES:
            return None
    elif highway not in WALKED:  # motorway, motorway_link, construction, platform, ...
        return None
    if access in ("no", "private") and foot not in FOOT_YES:
        return None
    return 2.0 if highway == "steps" else 1.0


@lru_cache(maxsize=4)  # several tests read the same extract; callers must not change the result
def raw_extract(path: Path):
    """({node id: (lon, lat)}, [(way id, tags, [node refs])] of every way with a highway tag)."""
    import osmium

    class Raw(osmium.SimpleHandler):
        def __init__(self):
            super().__init__()
            self.loc, self.ways = {}, []

        def node(self, n):
            self.loc[n.id] = (n.location.lon, n.location.lat)

        def way(self, w):
            if "highway" in w.tags:
                self.ways.append((w.id, {t.k: t.v for t in w.tags}, [n.ref for n in w.nodes]))

    raw = Raw()
    raw.apply_file(str(path))
    return raw.loc, raw.ways


def expected_edges(loc: dict, ways: list):
    """[(way id, factor, [node refs])]: the walked ways cut at every node two of them share."""
    runs = []
    for way_id, tags, refs in ways:
        factor = rule(tags)
        if factor is None:
            continue
        run = []
        for ref in refs + [None]:  # None closes the last run
            if ref is not None and ref in loc:
                if not run or run[-1] != ref:
                    run.append(ref)
                continue
            if len(run) >= 2:  # a node missing from the extract ends a run
                runs.append((way_id, factor, run))
            run = []
    uses = Counter(ref for _, _, run in runs for ref in run)
    edges = []
    for way_id, factor, run in runs:
        piece = [run[0]]
        for k in range(1, len(run)):
            piece.append(run[k])
            if k < len(run) - 1 and uses[run[k]] >= 2:
                edges.append((way_id, factor, piece))
                piece = [run[k]]
        edges.append((way_id, factor, piece))
    # a piece whose nodes all stand on one spot has no length and joins nothing
    return [e for e in edges if len({loc[r] for r in e[2]}) > 1]
