"""sites.xlsx: the recommended list with every explanation, the coverage table and the solve facts.

Scenario text is written as text cells, never as formulas: a site named ``=HYPERLINK(...)`` stays
a name. Characters XML cannot hold (control characters) are dropped from cell text.
"""

from __future__ import annotations

from pathlib import Path

from lifecircle.optimizer.outputs.i18n import t


def _text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _append(ws, values) -> None:
    from openpyxl.cell.cell import Cell

    cells = []
    for value in values:
        if isinstance(value, str):
            cell = Cell(ws, value=None)
            cell.value = _text(value)
            cell.data_type = "s"  # a leading "=" must not turn scenario text into a formula
            cells.append(cell)
        else:
            cells.append(value)
    ws.append(cells)


def _sheet(wb, title: str, headers, rows, widths=None):
    from openpyxl.styles import Font

    ws = wb.create_sheet(title=title[:31])
    _append(ws, headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(ws, row)
    ws.freeze_panes = "A2"
    for c, header in enumerate(headers, start=1):
        width = (widths or {}).get(c, min(40, max(10, len(str(header)) + 2)))
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = width
    return ws


def write_sites_xlsx(path: Path, site_list, group_table, kind_table, binding_table, uncovered_table,
                     facts_rows, lang: str) -> None:
    """Write the workbook. Each table is (headers, rows) as built by ``optimizer.outputs.report``."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    headers, rows = site_list
    wide = {t("col.name", lang), t("col.alt_name", lang), t("col.alt_site", lang)}
    ws = _sheet(wb, t("sheet.sites", lang), headers, rows,
                widths={c: 30 for c, h in enumerate(headers, start=1) if h in wide})
    ws.auto_filter.ref = ws.dimensions
    _sheet(wb, t("sheet.groups", lang), *group_table)
    _sheet(wb, t("sheet.kinds", lang), *kind_table)
    _sheet(wb, t("sheet.plan", lang), *binding_table, widths={3: 30, 5: 60})
    _sheet(wb, t("sheet.uncovered", lang), *uncovered_table, widths={4: 90})
    _sheet(wb, t("sheet.facts", lang), [t("col.item", lang), t("col.value", lang)], facts_rows,
           widths={1: 34, 2: 70})
    wb.save(path)
