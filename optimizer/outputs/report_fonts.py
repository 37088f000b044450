"""Chinese that renders on any PC: the report embeds the CJK glyphs it uses (issue 15).

An office PC or a projector laptop may have no CJK font; the page would then show boxes (tofu).
At write time the report takes a CJK font installed here (``LIFECIRCLE_CJK_FONT``, else
fontconfig's choice for Chinese, else well-known paths on Linux, Windows and macOS), keeps only
the glyphs the page uses (fontTools' subsetter: a few hundred characters, tens of kilobytes as
WOFF2) and embeds them as a base64 ``@font-face``. With no CJK font installed it takes the glyphs
from the subset of Noto Sans CJK SC shipped in ``fonts/`` (GB 2312 level 1: the common hanzi), so a
fresh machine still writes a readable report. A character the chosen font lacks fails the write with
one line naming the characters and the fix; it never writes a page that would show boxes.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import shutil
import subprocess
from pathlib import Path

from lifecircle.optimizer.errors import ScenarioError

__all__ = ["BUNDLED_FONT", "FONT_ENV", "FONT_FAMILY", "cjk_chars", "embed_cjk_font", "find_cjk_font",
           "font_face_css", "make_subset", "subset_font", "system_cjk_font"]

FONT_ENV = "LIFECIRCLE_CJK_FONT"
FONT_FAMILY = "lifecircle CJK"
# Where common CJK fonts live when fontconfig is absent or says nothing (Windows, macOS, Debian).
KNOWN_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)
# Scripts and punctuation the report's Latin fonts lack: CJK radicals to ideographs, compatibility
# ideographs and forms, full-width forms, and the supplementary ideograph planes.
CJK_RANGES = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x20000, 0x3FFFF))
PROBE = "中"
BUNDLED_FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-GB2312-L1.woff2"


def cjk_chars(page: str) -> str:
    """The distinct CJK characters of ``page``, sorted."""
    return "".join(sorted({ch for ch in page if any(lo <= ord(ch) <= hi for lo, hi in CJK_RANGES)}))


def _faces(path: Path) -> list:
    """(font number, family name) of each face in a .ttc, or [(-1, name)] for a single font."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        return [(i, f["name"].getDebugName(1) or "") for i, f in enumerate(TTCollection(path, lazy=True).fonts)]
    return [(-1, TTFont(path, lazy=True)["name"].getDebugName(1) or "")]


def _open(path: Path, number: int):
    from fontTools.ttLib import TTFont

    return TTFont(path, fontNumber=number, lazy=True) if number >= 0 else TTFont(path, lazy=True)


def _covers(path: Path, probe: str = PROBE):
    """The font number of ``path``'s best face that has ``probe`` (Simplified Chinese first), or None."""
    try:
        faces = _faces(path)
    except Exception:  # noqa: BLE001 - any unreadable file is simply not a candidate
        return None
    faces.sort(key=lambda f: (" SC" not in f[1] and "GB" not in f[1], "Mono" in f[1]))
    for number, _ in faces:
        try:
            cmap = _open(path, number).getBestCmap() or {}
        except Exception:  # noqa: BLE001
            continue
        if all(ord(ch) in cmap for ch in probe):
            return number
    return None


def find_cjk_font():
    """(path, font number) of a CJK font on this machine, else lifecircle's bundled subset, or None."""
    found = system_cjk_font()
    if found is None and BUNDLED_FONT.is_file():
        return str(BUNDLED_FONT), -1
    return found


@functools.lru_cache(maxsize=4)
def system_cjk_font():
    """(path, font number) of a CJK font installed on this machine, or None. Cached per process."""
    candidates = []
    if os.environ.get(FONT_ENV):
        candidates.append(Path(os.environ[FONT_ENV]))
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True,
                                   text=True, timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found:
            candidates.append(Path(found))
    candidates += [Path(p) for p in KNOWN_FONTS]
    for path in candidates:
        if path.is_file():
            number = _covers(path)
            if number is not None:
                return str(path), number
    return None


@functools.lru_cache(maxsize=16)
def subset_font(path: str, number: int, chars: str) -> bytes:
    """:func:`make_subset` as WOFF2, cached per process (a run writes its report in two steps,
    tests write the same page many times). About a second for a report's few hundred characters
    from the 16 MB Noto Sans CJK: the layout tables it would otherwise decompile are dropped."""
    return make_subset(path, number, chars)


def make_subset(path: str, number: int, chars: str, flavor: str | None = "woff2") -> bytes:
    """Face ``number`` of ``path`` holding only ``chars``, as WOFF2 (or plain OpenType with
    ``flavor=None``): no hinting, no layout features (a report needs the shapes, not a typesetter)."""
    from fontTools import subset

    font = _open(Path(path), number)
    options = subset.Options()
    options.flavor = flavor
    options.hinting = False
    options.layout_features = []  # Chinese needs no shaping; the GSUB closure is most of the time
    # horizontal text only: no layout or vertical-metric tables to decompile and carry
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    options.name_IDs = [1, 2]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = flavor
    font.save(out)
    return out.getvalue()


def font_face_css(chars: str) -> str:
    """The ``@font-face`` rule embedding ``chars`` from this machine's CJK font; "" without chars.

    Raises :class:`ScenarioError` when there are CJK characters and no CJK font to take them from.
    """
    if not chars:
        return ""
    found = find_cjk_font()
    if found is None:
        raise ScenarioError(
            "report.html: the report has Chinese text but this machine has no CJK font to embed, so it "
            "would show boxes; install one (Debian/Ubuntu: apt-get install fonts-noto-cjk) or set "
            f"{FONT_ENV} to a .ttf/.otf/.ttc file")
    missing = _missing(found[0], found[1], chars)
    if missing:
        shown = "".join(missing[:20]) + ("…" if len(missing) > 20 else "")
        raise ScenarioError(
            f"report.html: the CJK font {Path(found[0]).name} has no glyph for {len(missing)} character(s) "
            f"of the report ({shown}), so they would show as boxes; install a full CJK font (Debian/Ubuntu: "
            f"apt-get install fonts-noto-cjk) or set {FONT_ENV} to one that has them")
    data = base64.b64encode(subset_font(found[0], found[1], chars)).decode("ascii")
    return (f'@font-face{{font-family:"{FONT_FAMILY}";src:url(data:font/woff2;base64,{data}) format("woff2");'
            "font-display:block}")


@functools.lru_cache(maxsize=16)
def _missing(path: str, number: int, chars: str) -> list:
    cmap = _open(Path(path), number).getBestCmap() or {}
    return [ch for ch in chars if ord(ch) not in cmap]


def embed_cjk_font(page: str, marker: str = "<style>/*@font-face*/") -> str:
    """``page`` with ``marker`` (its stylesheet's start) followed by the embedded CJK subset.

    The marker starts with ``<``, which escaped scenario text never holds, so a name cannot move it.
    """
    return page.replace(marker, "<style>" + font_face_css(cjk_chars(page)), 1)
