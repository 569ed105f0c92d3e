"""Heat-map images of an access matrix: SVG rendered by Jinja2, PNG converted by cairosvg.

>>> cells = access_matrix(env, user_type="portal")                      # doctest: +SKIP
>>> Path("portal.svg").write_text(heatmap_svg(cells, title="Portal users"))  # doctest: +SKIP
>>> Path("portal.png").write_bytes(heatmap_png(cells, title="Portal users"))  # doctest: +SKIP

One row per model of ``cells``, one column per operation. The colour reads as risk:
red where the operation reaches every record, amber where record rules restrict it,
green-grey where no access right grants it. Each cell has a tooltip with the names of
its rules. Presentation only: the cells come from :mod:`bastion.security.matrix`,
which takes the decisions.

Model and rule names come from the database and are escaped by the template; the few
characters XML cannot carry even escaped (control characters, lone surrogates) are
shown as U+FFFD so that the image always parses.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from jinja2 import Environment, StrictUndefined

from bastion.errors import BastionError
from bastion.security.matrix import Cell

OPERATIONS = ("read", "write", "create", "unlink")


@dataclass(frozen=True)
class Shade:
    """How one kind of cell is drawn: ``fill`` behind, ``ink`` for its label."""

    key: str
    fill: str
    ink: str
    meaning: str


# The HTML report of `bastion audit odoo` uses the same fills (a test checks it).
UNRESTRICTED = Shade("unrestricted", "#c62828", "#ffffff", "allowed on every record")
RESTRICTED = Shade("restricted", "#f9a825", "#212121", "allowed, restricted by record rules")
DENIED = Shade("denied", "#dde5dd", "#5b6b5b", "denied: no access right")
SHADES = (UNRESTRICTED, RESTRICTED, DENIED)


def shade_of(cell: Cell) -> Shade:
    if not cell.allowed:
        return DENIED
    return RESTRICTED if cell.rules else UNRESTRICTED


def label_of(cell: Cell) -> str:
    """``all``, ``1 rule``, ``3 rules`` or ``-``: short enough for a cell."""
    if not cell.allowed:
        return "-"
    if not cell.rules:
        return "all"
    return "1 rule" if len(cell.rules) == 1 else f"{len(cell.rules)} rules"


def displayable(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids (even as references) replaced."""
    return "".join("\ufffd" if _forbidden(char) else char for char in text)


def _forbidden(char: str) -> bool:
    if char in "\t\n":
        return False
    # \r is allowed by XML but a parser turns it into \n: replaced too, so that every
    # name reads back as written or visibly altered.
    return unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff"


# -- layout ---------------------------------------------------------------------------
# Text widths are estimated (no font metrics at hand): 0.62 em per character is a
# little wider than DejaVu Sans and Verdana average, so names are never clipped.
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
FONT_SIZE = 12
TITLE_SIZE = 16
EM = 0.62
PAD = 16
CELL_W = 76
CELL_H = 24
TITLE_H = 30
HEADER_H = 22
LEGEND_ROW_H = 20
SWATCH = 14


def _text_width(text: str, size: int = FONT_SIZE) -> int:
    return round(len(text) * size * EM)


@dataclass(frozen=True)
class _DrawnCell:
    model: str
    operation: str
    shade: Shade
    label: str
    tooltip: str
    x: int
    y: int


@dataclass(frozen=True)
class _Row:
    model: str
    y: int
    cells: tuple[_DrawnCell, ...]


def _tooltip(model: str, cell: Cell) -> str:
    head = f"{model}, {cell.operation}: {shade_of(cell).meaning}"
    return "\n".join([head, *(f"- {displayable(rule)}" for rule in cell.rules)])


def _rows(cells: Iterable[Cell], left: int, top: int) -> list[_Row]:
    by_key: dict[tuple[str, str], Cell] = {}
    for cell in cells:
        if cell.operation not in OPERATIONS:
            raise BastionError(
                f"matrix cell {cell.model}/{cell.operation}: operation must be one of "
                + ", ".join(OPERATIONS)
            )
        by_key[(cell.model, cell.operation)] = cell
    rows = []
    for index, model in enumerate(sorted({model for model, _op in by_key})):
        y = top + index * CELL_H
        drawn = []
        for column, operation in enumerate(OPERATIONS):
            # A model given without some operation: that operation is not granted.
            cell = by_key.get((model, operation), Cell(model, operation, False, ()))
            name = displayable(model)
            drawn.append(
                _DrawnCell(
                    name,
                    operation,
                    shade_of(cell),
                    label_of(cell),
                    _tooltip(name, cell),
                    left + column * CELL_W,
                    y,
                )
            )
        rows.append(_Row(displayable(model), y, tuple(drawn)))
    return rows


_SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{{ width }}" height="{{ height }}" \
viewBox="0 0 {{ width }} {{ height }}" font-family="{{ font }}" font-size="{{ font_size }}" \
role="img" aria-labelledby="heatmap-title">
<title id="heatmap-title">{{ title }}</title>
<rect class="background" width="{{ width }}" height="{{ height }}" fill="#ffffff"/>
<text class="title" x="{{ pad }}" y="{{ pad + title_size }}" font-size="{{ title_size }}" \
font-weight="bold" fill="#212121">{{ title }}</text>
{% for operation in operations %}
<text class="operation" x="{{ left + loop.index0 * cell_w + cell_w // 2 }}" \
y="{{ header_y }}" text-anchor="middle" font-weight="bold" fill="#212121">{{ operation }}</text>
{% endfor %}
{% for row in rows %}
<text class="model" x="{{ left - 8 }}" y="{{ row.y + text_dy }}" text-anchor="end" \
fill="#212121">{{ row.model }}</text>
{% for cell in row.cells %}
<g class="cell {{ cell.shade.key }}" data-model="{{ cell.model }}" \
data-operation="{{ cell.operation }}">
<title>{{ cell.tooltip }}</title>
<rect x="{{ cell.x }}" y="{{ cell.y }}" width="{{ cell_w }}" height="{{ cell_h }}" \
fill="{{ cell.shade.fill }}" stroke="#ffffff" stroke-width="2"/>
<text x="{{ cell.x + cell_w // 2 }}" y="{{ cell.y + text_dy }}" text-anchor="middle" \
fill="{{ cell.shade.ink }}">{{ cell.label }}</text>
</g>
{% endfor %}
{% else %}
<text class="empty" x="{{ pad }}" y="{{ top + text_dy }}" fill="#212121">\
No model in this matrix.</text>
{% endfor %}
{% for shade in shades %}
<g class="legend {{ shade.key }}">
<rect x="{{ pad }}" y="{{ legend_y + loop.index0 * legend_h }}" width="{{ swatch }}" \
height="{{ swatch }}" fill="{{ shade.fill }}"/>
<text x="{{ pad + swatch + 8 }}" y="{{ legend_y + loop.index0 * legend_h + swatch - 2 }}" \
fill="#212121">{{ shade.meaning }}</text>
</g>
{% endfor %}
</svg>
"""

_TEMPLATE = Environment(
    autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
).from_string(_SVG)


def heatmap_svg(cells: Sequence[Cell], *, title: str) -> str:
    """The matrix as an SVG document (UTF-8 text with its XML declaration)."""
    title = displayable(title)
    longest = max((_text_width(displayable(c.model)) for c in cells), default=0)
    left = PAD + longest + 8
    top = PAD + TITLE_H + HEADER_H
    rows = _rows(cells, left, top)
    grid_bottom = top + max(len(rows), 1) * CELL_H
    legend_y = grid_bottom + PAD
    legend_w = SWATCH + 8 + max(_text_width(s.meaning) for s in SHADES)
    width = PAD + max(
        left - PAD + len(OPERATIONS) * CELL_W,
        _text_width(title, TITLE_SIZE),
        legend_w,
    )
    width += PAD
    height = legend_y + len(SHADES) * LEGEND_ROW_H + PAD
    return _TEMPLATE.render(
        title=title,
        rows=rows,
        operations=OPERATIONS,
        shades=SHADES,
        width=width,
        height=height,
        left=left,
        top=top,
        header_y=top - 7,
        legend_y=legend_y,
        text_dy=CELL_H // 2 + FONT_SIZE // 2 - 2,
        pad=PAD,
        cell_w=CELL_W,
        cell_h=CELL_H,
        legend_h=LEGEND_ROW_H,
        swatch=SWATCH,
        font=FONT,
        font_size=FONT_SIZE,
        title_size=TITLE_SIZE,
    )


def heatmap_png(cells: Sequence[Cell], *, title: str) -> bytes:
    """The same image as a PNG; needs the system library libcairo2."""
    svg2png = _svg2png()
    png = svg2png(bytestring=heatmap_svg(cells, title=title).encode("utf-8"), unsafe=False)
    assert isinstance(png, bytes)
    return png


def _svg2png() -> Callable[..., object]:
    try:
        import cairosvg  # noqa: PLC0415 - loads libcairo2; only PNG output needs it
    except OSError as exc:
        raise BastionError(
            "PNG output needs the cairo library (apt install libcairo2); "
            f"--svg works without it ({_first_line(exc)})"
        ) from None
    convert: Callable[..., object] = cairosvg.svg2png
    return convert


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


__all__ = [
    "DENIED", "OPERATIONS", "RESTRICTED", "SHADES", "UNRESTRICTED", "Shade",
    "displayable", "heatmap_png", "heatmap_svg", "label_of", "shade_of",
]  # fmt: skip
