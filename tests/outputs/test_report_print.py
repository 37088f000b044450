"""report.html on paper and without CJK fonts (issue 15), in the system Chromium via Playwright.

- Print-to-PDF (A4 and A3): the PDF's text holds the headline and the last column's header of
  every table, and in print layout no table is wider than its page.
- CJK glyphs render: Chromium runs with a fontconfig that sees only DejaVu (no CJK font, like an
  office PC without one). Two different Chinese characters of the report, in the report's font,
  must render differently and unlike the .notdef box the same characters get in DejaVu Sans. A
  page whose font were not embedded shows the same box for both, and fails.

Under CI (CI=true) a missing Chromium or Playwright fails; elsewhere the tests skip.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecircle.cli import main
from support.browser import chromium_path, missing, sync_playwright
from support.scenarios import write_scenario

def launch(playwright, env=None):
    return playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"],
                                      env=env)


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright()() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    """One Chromium with the machine's fonts for the print tests (the CJK test starts its own)."""
    chromium = launch(playwright)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("print")
    scenario = write_scenario(folder / "tiny")
    out = {}
    for lang in ("en", "zh"):
        result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(folder / lang), "--lang", lang])
        assert result.exit_code == 0, result.output
        out[lang] = folder / lang / "report.html"
    return out


def squash(text: str) -> str:
    """Text without whitespace and ligatures: a header wrapped over two lines, or printed with
    "fi" as one glyph, still matches."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


LAST_HEADERS = """Array.from(document.querySelectorAll('table')).filter(t => t.tHead)
  .map(t => [t.id, t.tHead.rows[0].cells[t.tHead.rows[0].cells.length - 1].textContent])"""


@pytest.mark.parametrize("paper", ["A4", "A3"])
def test_print_to_pdf_keeps_every_column(browser, reports, paper, tmp_path):
    from pypdf import PdfReader

    page = browser.new_page()
    page.goto(reports["en"].resolve().as_uri())
    last = page.evaluate(LAST_HEADERS)
    assert {"site-list", "site-alt", "coverage-table", "binding", "map-key"} <= {i for i, _ in last}
    pdf = page.pdf(format=paper, print_background=True)
    page.close()
    (tmp_path / f"report-{paper}.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    text = squash("".join(p.extract_text() or "" for p in reader.pages))
    assert squash("elderly 30 / 30 people (100.0%)") in text
    for table, header in last:
        assert squash(header) in text, (table, header)
    # the site list's section prints on landscape pages
    wide = [p for p in reader.pages if float(p.mediabox.width) > float(p.mediabox.height)]
    assert wide and len(wide) < len(reader.pages)


def test_print_layout_fits_every_table_on_the_page(browser, reports):
    # A4's printable width at 96 px per inch: portrait 190 mm, landscape 277 mm
    for width_px, selector in ((718, "table:not(.wide table)"), (1047, ".wide table")):
        page = browser.new_page(viewport={"width": width_px, "height": 1000})
        page.emulate_media(media="print")
        page.goto(reports["zh"].resolve().as_uri())
        overflow = page.evaluate(f"""Array.from(document.querySelectorAll({json.dumps(selector)}))
          .filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .map(t => t.id)""")
        assert overflow == [], (width_px, overflow)
        page.close()


def no_cjk_fontconfig(folder: Path) -> dict:
    """An environment whose fontconfig sees DejaVu only: a machine without any CJK font."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        missing("DejaVu fonts are not installed (Debian: fonts-dejavu-core)")
    (folder / "cache").mkdir(exist_ok=True)
    conf = folder / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{dejavu}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>""", encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def glyph_png(page, char: str, family: str | None) -> bytes:
    """A screenshot of ``char`` at 64 px in ``family`` (None: the report's own font), as RGB bytes."""
    from PIL import Image

    style = "font-size:64px;line-height:1;display:inline-block;padding:4px;background:#fff;color:#000"
    if family:
        style += f";font-family:{family}"
    page.evaluate("""([c, style]) => { const s = document.createElement('span'); s.id = 'probe';
        s.setAttribute('style', style); s.textContent = c; document.getElementById('probe')?.remove();
        document.body.prepend(s); }""", [char, style])
    page.evaluate("document.fonts.ready.then(() => true)")
    shot = page.locator("#probe").screenshot()
    return Image.open(io.BytesIO(shot)).convert("RGB").tobytes()


def test_cjk_glyphs_render_without_any_cjk_font_installed(playwright, reports, tmp_path):
    html = reports["zh"].read_text(encoding="utf-8")
    assert "@font-face" in html and "font/woff2;base64," in html
    a, b = "覆", "盖"  # two characters the Chinese report uses ("覆盖", coverage)
    assert a in html and b in html
    browser = launch(playwright, env=no_cjk_fontconfig(tmp_path))
    try:
        page = browser.new_page()
        page.goto(reports["zh"].resolve().as_uri())
        tofu_a, tofu_b = glyph_png(page, a, "'DejaVu Sans'"), glyph_png(page, b, "'DejaVu Sans'")
        # the premise: this browser has no CJK font, so DejaVu shows one and the same box for both
        assert tofu_a == tofu_b, "Chromium still finds a CJK font: the fontconfig override did not apply"
        got_a, got_b = glyph_png(page, a, None), glyph_png(page, b, None)
        assert got_a != got_b, "two different characters render the same: boxes"
        assert got_a != tofu_a and got_b != tofu_b, "the report's font renders the .notdef box"
        assert page.evaluate("document.fonts.check('16px \"lifecircle CJK\"', '覆盖')")
    finally:
        browser.close()


def test_report_font_subset_is_small(reports):
    html = reports["zh"].read_text(encoding="utf-8")
    data = re.search(r"font/woff2;base64,([A-Za-z0-9+/=]+)", html).group(1)
    assert len(data) < 150_000  # a few hundred glyphs, not the 16 MB font


def test_no_cjk_font_fails_loudly_at_write_time(tmp_path, monkeypatch):
    from lifecircle.optimizer.outputs import report_fonts

    monkeypatch.setattr(report_fonts, "find_cjk_font", lambda: None)
    result = CliRunner().invoke(main, ["solve", str(write_scenario(tmp_path / "tiny")), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    line = [ln for ln in result.output.splitlines() if "fonts-noto-cjk" in ln]
    assert len(line) == 1 and "Traceback" not in result.output
    # an all-Latin page needs no CJK font
    assert report_fonts.embed_cjk_font("<style>/*@font-face*/body{}</style>plain") == "<style>body{}</style>plain"


def test_without_a_system_font_the_bundled_subset_is_embedded(monkeypatch):
    """A fresh machine with no CJK font still writes a readable report (make run's bishan_rural)."""
    import base64

    from fontTools.ttLib import TTFont

    from lifecircle.optimizer.outputs import report_fonts

    monkeypatch.setattr(report_fonts, "system_cjk_font", lambda: None)
    assert report_fonts.find_cjk_font() == (str(report_fonts.BUNDLED_FONT), -1)
    page = report_fonts.embed_cjk_font("<style>/*@font-face*/</style>老幼共托服务站 社区食堂，渝中区")
    data = re.search(r"font/woff2;base64,([A-Za-z0-9+/=]+)", page).group(1)
    cmap = TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap()
    assert all(ord(ch) in cmap for ch in "老幼共托服务站社区食堂，渝中区")


def test_a_character_the_font_lacks_fails_loudly(monkeypatch):
    from lifecircle.optimizer.errors import ScenarioError
    from lifecircle.optimizer.outputs import report_fonts

    monkeypatch.setattr(report_fonts, "system_cjk_font", lambda: None)
    with pytest.raises(ScenarioError) as caught:
        report_fonts.embed_cjk_font("<style>/*@font-face*/</style>中\U00020000")  # outside GB 2312
    assert str(caught.value) == (
        "report.html: the CJK font NotoSansSC-GB2312-L1.woff2 has no glyph for 1 character(s) of the "
        "report (\U00020000), so they would show as boxes; install a full CJK font (Debian/Ubuntu: "
        "apt-get install fonts-noto-cjk) or set LIFECIRCLE_CJK_FONT to one that has them")


def test_network_report_screenshot_shows_the_map(browser, tmp_path):
    """The README's screenshot of the report (docs/report-map.png), made by this browser run:
    written there when LIFECIRCLE_SCREENSHOTS=1, else only into the test's folder."""
    from PIL import Image

    from support.network import X0, Y0, write_hand_scenario

    folder = tmp_path / "hand"
    scenario = write_hand_scenario(folder)
    ring = [[X0 + x, Y0 + y] for x, y in [(-200, -300), (2600, -300), (2600, 600), (-200, 600), (-200, -300)]]
    (folder / "boundary.geojson").write_text(json.dumps({"type": "Polygon", "coordinates": [ring], "crs": {
        "type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4545"}}}), encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(tmp_path / "out"), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    page = browser.new_page(viewport={"width": 1100, "height": 1250})
    try:
        page.goto((tmp_path / "out" / "report.html").resolve().as_uri())
        # pan and zoom: the + button shrinks the viewBox; reset restores it
        home = page.get_attribute("#map", "viewBox")
        page.click("button[data-zoom=in]")
        zoomed = page.get_attribute("#map", "viewBox")
        assert float(zoomed.split()[2]) < float(home.split()[2])
        page.click("button[data-zoom=reset]")
        assert [float(v) for v in page.get_attribute("#map", "viewBox").split()] == [float(v) for v in home.split()]
        shot = tmp_path / "report-map.png"
        page.screenshot(path=str(shot))
    finally:
        page.close()
    image = Image.open(shot).convert("RGB")
    assert len(image.getcolors(maxcolors=1 << 24)) > 50
    if os.environ.get("LIFECIRCLE_SCREENSHOTS"):
        docs = Path(__file__).resolve().parents[2] / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copyfile(shot, docs / "report-map.png")
