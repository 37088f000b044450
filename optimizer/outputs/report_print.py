"""The report's stylesheet for the screen and for paper (issue 15).

Print: the page size is the printer's (A4 or A3, chosen in the print dialog); sections holding
wide tables (``class="wide"``) go on landscape pages; tables take the page width and wrap every
cell instead of running off the edge; header rows repeat on each page; rows are never split; the
map fits the page and its buttons are not printed. The site list is already two tables of
logical column groups (what each site covers; its rank and best alternative), each narrow enough
for a landscape A4 page.
"""

from __future__ import annotations

from lifecircle.optimizer.outputs.report_fonts import FONT_FAMILY

__all__ = ["CSP", "CSS", "FONT_STACK", "PRINT_CSS", "SCREEN_CSS"]

# fonts: data: lets the embedded CJK subset load; nothing else is ever fetched
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
       "font-src data:")

# the embedded CJK subset first (it holds only the page's Chinese glyphs; other characters fall
# through to the next font), then the usual system CJK and Latin fonts
FONT_STACK = (f'"{FONT_FAMILY}","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",'
              '"SimHei","Helvetica Neue",Arial,sans-serif')

SCREEN_CSS = """
body{font-family:%s;margin:1.2em auto;max-width:1400px;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.85em}
th,td{border:1px solid #ccd;padding:.25em .5em;vertical-align:top;max-width:28em;overflow-wrap:anywhere}
td.t{min-width:6em}th{min-width:4.5em;overflow-wrap:normal}
th{background:#eef2f7;text-align:left}td.n{text-align:right;white-space:nowrap}
table.sortable th{cursor:pointer}#site-list td:first-child{white-space:nowrap}
table.sortable th[aria-sort=ascending]::after{content:" ▲"}
table.sortable th[aria-sort=descending]::after{content:" ▼"}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:.9em}
.legend li{display:flex;align-items:center;gap:.3em}.facts td:first-child{font-weight:600}
.note{color:#555;font-size:.85em}.wrap{overflow-x:auto}
#headline{background:#f3f7fb;border-left:4px solid #0072B2;padding:.5em 1em;margin:.8em 0}
.head-people{list-style:none;padding:0;margin:.2em 0;font-size:1.15em}.head-people li{margin:.15em 0}
.sr{position:absolute;left:-9999px}#rules-bound{margin:.2em 0}
.map-box{border:1px solid #ccd;max-width:960px;overflow:hidden}
.map-box svg{display:block;touch-action:none;cursor:grab}
.map-tools{margin:.3em 0}.map-tools button{font:inherit;min-width:2.2em;margin-left:.2em}
""" % FONT_STACK

PRINT_CSS = """
@page{margin:12mm 10mm}
@page wide{size:landscape;margin:10mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9pt;line-height:1.3}
.no-print,.map-tools{display:none!important}
.wide{page:wide}
h2{break-before:auto;break-after:avoid}h3,h4{break-after:avoid}
#headline{break-inside:avoid;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.wrap,.map-box{overflow:visible!important;max-width:100%!important;border:0}
.map-box svg{max-width:100%!important;max-height:180mm;width:auto!important;margin:0 auto;cursor:auto}
.map-box{break-inside:avoid}
table{width:100%;max-width:100%;table-layout:auto;font-size:7pt;margin:.3em 0 .8em}
thead{display:table-header-group}tfoot{display:table-footer-group}
tr{break-inside:avoid}
th,td{max-width:none;min-width:3.5em!important;padding:.15em .3em;white-space:normal!important;
overflow-wrap:anywhere;word-break:normal}td.n{min-width:0!important}
th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
table.sortable th::after{content:none!important}
}
"""

CSS = "/*@font-face*/" + SCREEN_CSS + PRINT_CSS
