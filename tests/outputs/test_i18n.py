"""The label catalogue: every label in both languages, every label the code asks for exists."""

from __future__ import annotations

import re
import string

import pytest

from support.scenarios import REPO
from lifecircle.optimizer.outputs.i18n import CATALOGUE, LANGUAGES, resolve_language, t

SOURCES = [REPO / "cli.py", *sorted((REPO / "optimizer").rglob("*.py"))]
# t("key", ...) with a literal key, and the f-string families t(f"why.{reason}") / _lookup("kind", ...)
LITERAL = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+|[a-z_]+)["']""")
QUOTED = re.compile(r"""["']([a-z_]+(?:\.[a-z_]+)*)["']""")
FAMILIES = ("why.", "kind.", "group.", "status.", "rule.", "next.by_", "circle.")


def placeholders(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_label_has_both_languages_and_the_same_placeholders(key):
    entry = CATALOGUE[key]
    assert set(entry) == set(LANGUAGES)
    assert all(entry[lang].strip() for lang in LANGUAGES)
    assert placeholders(entry["zh"]) == placeholders(entry["en"])


def test_chinese_labels_are_chinese():
    # a zh label that is only ASCII is almost surely an untranslated copy
    untranslated = [k for k, e in CATALOGUE.items() if e["zh"].isascii() and e["zh"] != e["en"]]
    copies = [k for k, e in CATALOGUE.items() if e["zh"] == e["en"]]
    assert not untranslated and not copies, untranslated + copies


def test_every_key_the_code_uses_is_in_the_catalogue():
    used = set()
    for path in SOURCES:
        used |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    used = {k for k in used if "." in k or k in CATALOGUE}
    assert used, "the scan found no labels"
    assert not used - set(CATALOGUE), sorted(used - set(CATALOGUE))
    for reason in ("selected", "forbidden", "no_type", "already_covered", "dominated", "too_expensive", "tie"):
        assert f"why.{reason}" in CATALOGUE
    for kind in ("under_bridge", "vacant_room", "idle_land", "corner_plot", "other"):
        assert f"kind.{kind}" in CATALOGUE
    for status in ("optimal", "feasible", "infeasible", "no_solution"):
        assert f"status.{status}" in CATALOGUE
    for rule in ("budget", "must_open", "min_open"):
        assert f"rule.{rule}" in CATALOGUE
    # and every catalogue entry is named somewhere (as a quoted key, or as one of the families)
    quoted = set()
    for path in SOURCES:
        if path.name not in ("i18n.py", "i18n_report.py"):  # the catalogues themselves
            quoted |= set(QUOTED.findall(path.read_text(encoding="utf-8")))
    unused = [k for k in CATALOGUE if k not in quoted and not k.startswith(FAMILIES)]
    assert not unused, unused


def test_no_user_facing_english_outside_the_catalogue():
    # the officials' modules build every sentence from t(); a quoted English sentence there is a leak
    for name in ("report.py", "svgmap.py", "text.py", "compare.py", "xlsx.py"):
        text = (REPO / "optimizer" / "outputs" / name).read_text(encoding="utf-8")
        body = re.sub(r'"""[\s\S]*?"""', "", text)  # docstrings
        body = re.sub(r"#.*", "", body)  # comments
        sentences = re.findall(r"""["']([A-Z][a-z]+(?: [a-z]+){2,}[.:]?)["']""", body)
        assert not sentences, (name, sentences)


def test_language_choice():
    assert resolve_language("zh", "en") == "zh"
    assert resolve_language(None, "zh") == "zh"
    assert resolve_language(None, None) == "en"
    assert resolve_language("fr", None) == "en"
    assert t("col.used_as", "zh", type="社区食堂") == "用作社区食堂"
    with pytest.raises(KeyError, match="no label"):
        t("no.such.label", "en")
