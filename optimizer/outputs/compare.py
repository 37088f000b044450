"""`lifecircle compare RESULT_A RESULT_B`: what changed between two runs.

Reads only the result folders (summary.json, sites.csv), never the scenarios, so two runs can be
compared after their inputs have moved or changed. A site whose facility type changed is reported
as such, not as one removal plus one addition.
"""

from __future__ import annotations

from pathlib import Path

from lifecircle.optimizer.errors import ScenarioError
from lifecircle.optimizer.outputs.i18n import DEFAULT_LANGUAGE, group_label, status_label, t
from lifecircle.optimizer.files import atomic_file, write_json
from lifecircle.optimizer.outputs.cells import num
from lifecircle.optimizer.outputs.results import GroupCoverage, read_run_summary, read_site_labels


def compare_results(folder_a, folder_b) -> dict:
    """The difference between two result folders, as plain data (JSON-ready)."""
    a_dir, b_dir = Path(folder_a), Path(folder_b)
    if a_dir.resolve() == b_dir.resolve():
        raise ScenarioError(f"compare: {a_dir} and {b_dir} are the same folder")
    a, b = read_run_summary(a_dir), read_run_summary(b_dir)
    (names_a, labels_a), (names_b, labels_b) = read_site_labels(a), read_site_labels(b)
    names, labels = names_a | names_b, labels_a | labels_b
    sel_a = {s.site_id: s for s in a.selected}
    sel_b = {s.site_id: s for s in b.selected}

    def entry(s):
        return {"site_id": s.site_id, "name": names.get(s.site_id, ""), "facility_type": s.facility_type,
                "cost": s.cost_cny}

    added = [entry(sel_b[s]) for s in sel_b if s not in sel_a]
    removed = [entry(sel_a[s]) for s in sel_a if s not in sel_b]
    retyped = [{"site_id": s, "name": names.get(s, ""), "type_a": sel_a[s].facility_type,
                "type_b": sel_b[s].facility_type, "cost_a": sel_a[s].cost_cny, "cost_b": sel_b[s].cost_cny}
               for s in sel_a if s in sel_b and sel_a[s].facility_type != sel_b[s].facility_type]
    kept = [s for s in sel_a if s in sel_b and sel_a[s].facility_type == sel_b[s].facility_type]

    coverage = {}
    none = GroupCoverage(None, None, None)
    for group in list(a.coverage) + [g for g in b.coverage if g not in a.coverage]:
        ca, cb = a.coverage.get(group, none), b.coverage.get(group, none)
        after_a, after_b = ca.covered_after, cb.covered_after
        coverage[group] = {
            "population_a": ca.population, "population_b": cb.population,
            "covered_after_a": after_a, "covered_after_b": after_b,
            "change": None if after_a is None or after_b is None else after_b - after_a,
        }

    def diff(va, vb):
        return {"a": va, "b": vb, "change": None if va is None or vb is None else vb - va}

    return {
        "result_a": str(a_dir), "result_b": str(b_dir),
        "scenario_a": a.scenario, "scenario_b": b.scenario,
        "same_scenario_file": a.scenario_checksum == b.scenario_checksum,
        "status": {"a": a.status, "b": b.status},
        "objective": diff(a.objective, b.objective), "spent": diff(a.spent_cny, b.spent_cny),
        "budget": diff(a.budget_cny, b.budget_cny),
        "sites_added": added, "sites_removed": removed, "sites_retyped": retyped, "sites_kept": len(kept),
        "coverage": coverage,
        "type_labels": labels,
        "language": a.language,
    }


def _signed(value, digits: int = 0) -> str:
    return "—" if value is None else f"{value:+,.{digits}f}"


def compare_lines(diff: dict, lang: str) -> list:
    """The difference as printed lines in ``lang``."""
    labels = diff.get("type_labels") or {}

    def kind(key):  # the scenario's label; in English with the key when they differ
        label = labels.get(key, key)
        return label if lang == "zh" or label == key else f"{label} ({key})"

    lines = [t("compare.head", lang, a=diff["result_a"], b=diff["result_b"]),
             "  " + t("compare.scenario", lang, a=diff["scenario_a"], b=diff["scenario_b"])]
    if not diff["same_scenario_file"]:
        lines.append("  " + t("compare.different_scenarios", lang))
    lines.append("  " + t("compare.status", lang, a=status_label(diff["status"]["a"], lang),
                          b=status_label(diff["status"]["b"], lang)))
    o, s, b = diff["objective"], diff["spent"], diff["budget"]
    lines.append("  " + t("compare.objective", lang, a=num(o["a"], 1), b=num(o["b"], 1), change=_signed(o["change"], 1)))
    lines.append("  " + t("compare.cost", lang, a=num(s["a"]), b=num(s["b"]), change=_signed(s["change"]),
                          budget_a=num(b["a"]), budget_b=num(b["b"])))
    for key, items in (("compare.added", diff["sites_added"]), ("compare.removed", diff["sites_removed"])):
        lines.append("  " + t(key, lang, count=len(items)))
        lines += ["    " + t("compare.site_line", lang, site=e["site_id"], name=e["name"], type=kind(e["facility_type"]),
                             cost=num(e["cost"])) for e in items]
    lines.append("  " + t("compare.retyped", lang, count=len(diff["sites_retyped"])))
    lines += ["    " + t("compare.retype_line", lang, site=e["site_id"], name=e["name"], type_a=kind(e["type_a"]),
                         type_b=kind(e["type_b"])) for e in diff["sites_retyped"]]
    lines.append("  " + t("compare.kept", lang, count=diff["sites_kept"]))
    lines.append("  " + t("compare.coverage", lang))
    for group, c in diff["coverage"].items():
        lines.append("    " + t("compare.group_line", lang, group=group_label(group, lang),
                                a=num(c["covered_after_a"]), b=num(c["covered_after_b"]), change=_signed(c["change"])))
    return lines


def default_compare_path(folder_a, folder_b) -> Path:
    """Beside the second result folder, so neither result folder is touched."""
    a, b = Path(folder_a), Path(folder_b)
    return b.resolve().parent / f"compare_{a.resolve().name}_vs_{b.resolve().name}.json"


def run_compare(folder_a, folder_b, *, lang: str | None = None, out=None) -> tuple[list, Path, str]:
    """Compare, write ``out`` (JSON: the data and the printed lines) and return (lines, path, lang)."""
    diff = compare_results(folder_a, folder_b)
    lang = lang or diff.get("language") or DEFAULT_LANGUAGE
    lines = compare_lines(diff, lang)
    path = Path(out) if out is not None else default_compare_path(folder_a, folder_b)
    with atomic_file(path, option="--out", owned=is_compare_output) as tmp:  # whole or not at all
        write_json(tmp, diff | {"text": lines, "text_language": lang})
    return lines, path, lang


def is_compare_output(path) -> bool:
    """Whether ``path`` is a JSON file an earlier ``compare`` wrote (only such files are replaced)."""
    try:  # its first key, as write_json lays it out: no need to read a file of any size whole
        with open(path, "rb") as fh:
            return fh.read(64).startswith(b'{\n  "result_a": ')
    except OSError:
        return False
