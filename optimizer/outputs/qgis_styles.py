"""QGIS styles (QML) for the GeoPackage layers, stored in its ``layer_styles`` table.

QGIS reads a GeoPackage's ``layer_styles`` table (the one it writes itself on "Save as default")
and applies the row with ``useAsDefault`` to a layer of ``f_table_name`` when the layer is added,
so the plan opens styled in one step. Each QML carries only the symbology (and labels for the
selected sites). Symbol layers carry their properties twice, as ``<Option type="Map">`` (QGIS
3.26 and later) and as ``<prop k v>`` (older 3.x), so every QGIS 3 reads them.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

__all__ = ["CANDIDATE_COLOURS", "COVERAGE_COLOURS", "layer_style_rows", "qml"]

QGIS_VERSION = "3.28.0-Firenze"
# ColorBrewer-like, readable on a grey base map and for red-green colour-blind readers
CANDIDATE_COLOURS = {"selected": "27,158,119,255", "must_open": "117,112,179,255",
                     "forbidden": "215,48,39,255", "not_chosen": "160,160,160,255"}
COVERAGE_COLOURS = {"covered_before": "116,169,207,255", "newly_covered": "26,152,80,255",
                    "partly_covered": "254,224,139,255", "not_covered": "215,48,39,255",
                    "no_people": "200,200,200,255"}
AREA_COLOURS = {"new": "27,158,119,50", "existing": "110,110,110,40"}
# legend labels of the categories (English: the values, underscores as spaces)
LEGENDS = {"zh": {"selected": "已选", "must_open": "必选（规则）", "forbidden": "禁止（规则）", "not_chosen": "未选",
                  "covered_before": "方案前已覆盖", "newly_covered": "新覆盖", "partly_covered": "部分覆盖",
                  "not_covered": "未覆盖", "no_people": "无人口", "new": "新设施", "existing": "现有设施"}}


def _props(props: dict) -> str:
    options = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(str(v))}/>' for k, v in props.items())
    legacy = "".join(f"<prop k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in props.items())
    return f'<Option type="Map">{options}</Option>{legacy}'


def _symbol(name: str, colour: str, size: float = 2.4, shape: str = "circle") -> str:
    props = {"name": shape, "color": colour, "size": size, "size_unit": "MM", "outline_color": "35,35,35,255",
             "outline_width": 0.2, "outline_style": "solid"}
    return (f'<symbol type="marker" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0">{_props(props)}</layer></symbol>')


def _fill(name: str, colour: str, outline: str, width: float, style: str = "solid", brush: str = "solid") -> str:
    props = {"color": colour, "style": brush, "outline_color": outline, "outline_width": width,
             "outline_width_unit": "MM", "outline_style": style}
    return (f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{_props(props)}</layer></symbol>')


def _categorised(field: str, colours: dict, labels: dict | None = None, size: float = 2.4, symbol=None) -> str:
    categories = "".join(f"<category render=\"true\" value={quoteattr(value)} symbol=\"{n}\" "
                         f"label={quoteattr((labels or {}).get(value, value.replace('_', ' ')))}/>"
                         for n, value in enumerate(colours))
    make = symbol or (lambda name, colour: _symbol(name, colour, size))
    symbols = "".join(make(str(n), colour) for n, colour in enumerate(colours.values()))
    return (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" enableorderby="0" '
            f'forceraster="0"><categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>')


def _single(symbol: str) -> str:
    return (f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
            f"<symbols>{symbol}</symbols></renderer-v2>")


def _labels(field: str) -> str:
    return ('<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName={quoteattr(field)} isExpression="0" fontSize="9" fontSizeUnit="Point" '
            'textColor="20,20,20,255" textOpacity="1" fontWeight="75" namedStyle="Bold">'
            '<text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
            'bufferOpacity="0.9"/></text-style>'
            '<placement placement="6" dist="1.2" distUnits="MM" priority="8"/>'
            '<rendering obstacle="1" scaleVisibility="0" displayAll="0" upsidedownLabels="0"/>'
            '</settings></labeling>')


def qml(layer: str, lang: str = "en") -> str:
    """The QML document of one layer of plan.gpkg / city.gpkg; legend labels in ``lang``."""
    labels = LEGENDS.get(lang, {})
    if layer == "candidates":
        body = _categorised("status", CANDIDATE_COLOURS, labels or {"must_open": "must open", "not_chosen": "not chosen"},
                            2.2)
    elif layer == "demand":
        body = _categorised("coverage", COVERAGE_COLOURS, labels, size=1.6)
    elif layer == "selected_sites":
        body = _single(_symbol("0", "27,158,119,255", 4.2, "star")) + _labels("name")
    elif layer == "existing":
        body = _single(_symbol("0", "90,90,90,255", 2.6, "square"))
    elif layer == "service_areas":  # semi-transparent: overlaps show as darker; existing in grey
        body = _categorised("source", AREA_COLOURS, labels or {"new": "new facility", "existing": "existing facility"},
                            symbol=lambda name, colour: _fill(name, colour, colour.rsplit(",", 1)[0] + ",200", 0.3))
    elif layer in ("circle", "circles"):
        body = _single(_fill("0", "0,0,0,0", "40,40,40,255", 0.8, "dash", "no"))
        if layer == "circles":
            body += _labels("circle")
    else:
        raise KeyError(layer)
    blending = '<layerOpacity>1</layerOpacity>'
    return (f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling">{body}{blending}</qgis>\n')


def layer_style_rows(layers, lang: str = "en") -> dict:
    """The ``layer_styles`` table (QGIS's own columns) with one default style per (layer, geometry
    column) in ``layers``, as {column: list of values}."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    layers = list(layers)
    return {
        "f_table_catalog": [""] * len(layers), "f_table_schema": [""] * len(layers),
        "f_table_name": [name for name, _ in layers], "f_geometry_column": [geom for _, geom in layers],
        "styleName": [name for name, _ in layers], "styleQML": [qml(name, lang) for name, _ in layers],
        "styleSLD": [""] * len(layers), "useAsDefault": [True] * len(layers),
        "description": ["lifecircle default style"] * len(layers), "owner": [""] * len(layers),
        "ui": [""] * len(layers), "update_time": [now] * len(layers),
    }
