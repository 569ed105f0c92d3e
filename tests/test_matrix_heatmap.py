"""``bastion matrix --svg/--png``: the access matrix drawn as a heat map, its colours,
tooltips and escaping, the PNG's size, and the command's files and errors."""

from __future__ import annotations

import colorsys
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from bastion import Command, Registry
from bastion.audit.heatmap import (
    DENIED,
    OPERATIONS,
    RESTRICTED,
    UNRESTRICTED,
    heatmap_png,
    heatmap_svg,
)
from bastion.audit.odoo.report import html_report
from bastion.security.matrix import Cell, access_matrix
from conftest import BACKENDS, module_database

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_RULE = "<script>alert(1)</script> & \"quoted\" 'single' ]]>"
OPEN_MODEL = "ir.module.category"  # portal users get it with no rule, planted below
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    """The sales app, a portal rule with a hostile name and a portal right with no rule."""
    with module_database(request, tmp_path_factory, "sale", name="heatmap") as registry:
        with registry.transaction() as env:
            portal = env.ref("base.group_portal")
            env["ir.rule"].create(
                {
                    "name": HOSTILE_RULE,
                    "model_id": env["ir.model"].search([("model", "=", "sale.order")]).id,
                    "domain_force": "[(1, '=', 1)]",
                    "groups": [Command.link(portal.id)],
                    "perm_write": False,
                    "perm_create": False,
                    "perm_unlink": False,
                }
            )
            env["ir.model.access"].create(
                {
                    "name": "portal reads module categories",
                    "model_id": env["ir.model"].search([("model", "=", OPEN_MODEL)]).id,
                    "group_id": portal.id,
                    "perm_read": True,
                }
            )
        yield registry


@pytest.fixture
def portal_cells(registry: Registry) -> list[Cell]:
    with registry.transaction() as env:
        return access_matrix(env, user_type="portal")


def parse(svg: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(svg.encode("utf-8"), parser)


def drawn_cells(root: etree._Element) -> dict[tuple[str, str], etree._Element]:
    found: dict[tuple[str, str], etree._Element] = {}
    for group in root.iter(f"{SVG}g"):
        if "cell" in group.get("class", "").split():
            key = (group.get("data-model", ""), group.get("data-operation", ""))
            assert key not in found, f"{key} drawn twice"
            found[key] = group
    return found


def fill(group: etree._Element) -> str:
    rect = group.find(f"{SVG}rect")
    assert rect is not None
    return rect.get("fill", "")


def label(group: etree._Element) -> str:
    return group.findtext(f"{SVG}text") or ""


def tooltip(group: etree._Element) -> str:
    return group.findtext(f"{SVG}title") or ""


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_one_cell_per_model_and_operation(portal_cells: list[Cell]) -> None:
    root = parse(heatmap_svg(portal_cells, title="Access of portal"))
    models = {c.model for c in portal_cells}
    cells = drawn_cells(root)
    assert set(cells) == {(m, op) for m in models for op in OPERATIONS}
    assert root.findtext(f"{SVG}title") == "Access of portal"
    model_labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "model"]
    assert model_labels == sorted(models)
    legend = [g for g in root.iter(f"{SVG}g") if "legend" in g.get("class", "")]
    assert [fill(g) for g in legend] == [UNRESTRICTED.fill, RESTRICTED.fill, DENIED.fill]


def test_colours_and_labels_follow_the_cells(portal_cells: list[Cell]) -> None:
    by_key = {(c.model, c.operation): c for c in portal_cells}
    cells = drawn_cells(parse(heatmap_svg(portal_cells, title="portal")))
    denied = cells[("sale.order", "write")]
    assert not by_key[("sale.order", "write")].allowed
    assert (fill(denied), label(denied)) == (DENIED.fill, "-")
    restricted = cells[("sale.order", "read")]
    rules = by_key[("sale.order", "read")].rules
    assert len(rules) >= 2
    assert (fill(restricted), label(restricted)) == (RESTRICTED.fill, f"{len(rules)} rules")
    open_cell = cells[(OPEN_MODEL, "read")]
    assert by_key[(OPEN_MODEL, "read")].allowed and not by_key[(OPEN_MODEL, "read")].rules
    assert (fill(open_cell), label(open_cell)) == (UNRESTRICTED.fill, "all")
    one_rule = [c for c in portal_cells if c.allowed and len(c.rules) == 1][0]
    assert label(cells[(one_rule.model, one_rule.operation)]) == "1 rule"


def hue_and_saturation(colour: str) -> tuple[float, float]:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, _lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    return hue * 360, saturation


def test_the_scale_reads_as_risk() -> None:
    hue, saturation = hue_and_saturation(UNRESTRICTED.fill)
    assert (hue < 15 or hue > 345) and saturation > 0.5  # a strong red
    hue, saturation = hue_and_saturation(RESTRICTED.fill)
    assert 30 <= hue <= 60 and saturation > 0.5  # amber to yellow
    _hue, saturation = hue_and_saturation(DENIED.fill)
    assert saturation < 0.25  # a greyish green


def test_the_tooltip_lists_the_rules_and_escapes_them(portal_cells: list[Cell]) -> None:
    svg = heatmap_svg(portal_cells, title="portal")
    assert "<script>" not in svg and HOSTILE_RULE not in svg
    cell = next(c for c in portal_cells if c.model == "sale.order" and c.operation == "read")
    assert HOSTILE_RULE in cell.rules
    text = tooltip(drawn_cells(parse(svg))[("sale.order", "read")])
    assert text.splitlines()[1:] == [f"- {name}" for name in cell.rules]
    assert not any(
        HOSTILE_RULE in tooltip(g) for k, g in drawn_cells(parse(svg)).items() if k[1] != "read"
    )


def test_a_hostile_title_and_model_name_round_trip() -> None:
    model = "x.<b>&\"model'"
    cells = [
        Cell(model, op, op == "read", (HOSTILE_RULE,) if op == "read" else ()) for op in OPERATIONS
    ]
    root = parse(heatmap_svg(cells, title=HOSTILE_RULE))
    assert root.findtext(f"{SVG}title") == HOSTILE_RULE
    assert set(drawn_cells(root)) == {(model, op) for op in OPERATIONS}
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "model"] == [model]


# Model names are identifiers in practice and land in attributes too (where XML turns
# line breaks into spaces); rule names land in text only and may hold line breaks.
PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")
MODEL_NAMES = st.text(PRINTABLE, min_size=1, max_size=40)
RULE_NAMES = st.text(st.one_of(PRINTABLE, st.sampled_from("\n\t")), min_size=1, max_size=60)


@given(
    st.dictionaries(
        MODEL_NAMES,
        st.tuples(*(st.lists(RULE_NAMES, max_size=3) for _ in OPERATIONS), st.booleans()),
        max_size=5,
    ),
    st.text(PRINTABLE, max_size=60),
)
def test_any_names_give_a_valid_svg_that_reads_back(
    models: dict[str, tuple[list[str], list[str], list[str], list[str], bool]], title: str
) -> None:
    cells = [
        Cell(model, op, bool(rules) or every, tuple(rules))
        for model, (*per_op, every) in models.items()
        for op, rules in zip(OPERATIONS, per_op, strict=True)
    ]
    root = parse(heatmap_svg(cells, title=title))
    assert root.findtext(f"{SVG}title") == title
    drawn = drawn_cells(root)
    assert set(drawn) == {(c.model, c.operation) for c in cells}
    for cell in cells:
        text = tooltip(drawn[(cell.model, cell.operation)])
        listed = "".join(f"\n- {rule}" for rule in cell.rules)
        assert text.startswith(f"{cell.model}, {cell.operation}: ") and text.endswith(listed)


def test_characters_xml_cannot_carry_are_replaced_not_fatal() -> None:
    bad = "rule\x00with\x1bcontrol\ud800and\rreturn"
    cells = [Cell("x.model\x07", "read", True, (bad,))]
    root = parse(heatmap_svg(cells, title="t\x08"))
    drawn = drawn_cells(root)
    assert set(drawn) == {("x.model\ufffd", op) for op in OPERATIONS}  # absent ones: denied
    assert fill(drawn[("x.model\ufffd", "write")]) == DENIED.fill
    group = drawn[("x.model\ufffd", "read")]
    assert "rule\ufffdwith\ufffdcontrol\ufffdand\ufffdreturn" in tooltip(group)
    assert png_size(heatmap_png(cells, title="t\x08"))[0] > 0


def test_an_empty_matrix_is_still_an_image() -> None:
    root = parse(heatmap_svg([], title="nobody"))
    assert drawn_cells(root) == {}
    assert any(t.get("class") == "empty" for t in root.iter(f"{SVG}text"))


def test_an_unknown_operation_is_refused() -> None:
    from bastion.errors import BastionError

    with pytest.raises(BastionError, match="x.model/approve"):
        heatmap_svg([Cell("x.model", "approve", True, ())], title="t")


def test_the_size_follows_the_rows_and_the_longest_name(portal_cells: list[Cell]) -> None:
    models = sorted({c.model for c in portal_cells})
    few = [c for c in portal_cells if c.model in models[:2]]
    small_w, small_h = png_size(heatmap_png(few, title="t"))
    large_w, large_h = png_size(heatmap_png(portal_cells, title="t"))
    assert 0 < small_w <= large_w and 0 < small_h < large_h
    root = parse(heatmap_svg(few, title="t"))
    assert (root.get("width"), root.get("height")) == (str(small_w), str(small_h))

    def one_row(model: str) -> list[Cell]:
        return [Cell(model, op, False, ()) for op in OPERATIONS]

    short_w, short_h = png_size(heatmap_png(one_row("x.y"), title="t"))
    long_w, long_h = png_size(heatmap_png(one_row("x." + "long_name" * 10), title="t"))
    assert long_w > short_w and long_h == short_h


def test_the_odoo_audit_report_uses_the_same_colours() -> None:
    html = html_report([], {"portal": {}, "public": {}}, [])
    assert f".granted{{background:{UNRESTRICTED.fill};color:{UNRESTRICTED.ink}}}" in html
    assert f".denied{{background:{DENIED.fill};color:{DENIED.ink}}}" in html


# -- the command ----------------------------------------------------------------------
MARKUP_RULE = "Orders [/] of [bold]portal[/bold] users"


def run(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-c", "from bastion.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "400"},  # rich's table: no wrapped names
    )


@pytest.fixture(scope="module")
def sales_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sales app on a SQLite file, with a portal rule whose name looks like markup."""
    url = f"sqlite:///{tmp_path_factory.mktemp('heatmap_cli') / 'sales.db'}"
    registry = Registry(url)
    registry.install("sale")
    with registry.transaction() as env:
        env["ir.rule"].create(
            {
                "name": MARKUP_RULE,
                "model_id": env["ir.model"].search([("model", "=", "sale.order")]).id,
                "domain_force": "[(1, '=', 1)]",
                "groups": [Command.link(env.ref("base.group_portal").id)],
            }
        )
    registry.dispose()
    return url


def test_the_command_writes_both_images_next_to_the_csv(sales_db: str, tmp_path: Path) -> None:
    svg, png = tmp_path / "portal.svg", tmp_path / "portal.png"
    done = run(
        "matrix",
        "--type",
        "portal",
        "--csv",
        "--svg",
        str(svg),
        "--png",
        str(png),
        "--db",
        sales_db,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "model,operation,allowed,rules"  # stdout: only CSV
    assert done.stderr.splitlines() == [
        f"wrote the SVG heat map to {svg}",
        f"wrote the PNG heat map to {png}",
    ]
    root = parse(svg.read_text(encoding="utf-8"))
    assert root.findtext(f"{SVG}title") == "Access of portal"
    shown = {line.split(",")[0] for line in done.stdout.splitlines()[1:]}
    assert {model for model, _op in drawn_cells(root)} == shown
    assert png_size(png.read_bytes())[1] > 0


def test_the_command_writes_an_image_next_to_the_table(sales_db: str, tmp_path: Path) -> None:
    svg = tmp_path / "internal.svg"
    done = run("matrix", "--type", "internal", "--svg", str(svg), "--db", sales_db)
    assert done.returncode == 0, done.stderr
    assert "Access of internal" in done.stdout and "┏" in done.stdout  # the table too
    assert done.stderr.strip() == f"wrote the SVG heat map to {svg}"
    drawn = drawn_cells(parse(svg.read_text(encoding="utf-8")))
    assert "ir.model" in done.stdout
    assert fill(drawn[("ir.model", "read")]) == UNRESTRICTED.fill  # every record
    assert fill(drawn[("ir.model", "write")]) == DENIED.fill


def test_an_unwritable_path_is_named(sales_db: str, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "m.svg"
    done = run("matrix", "--type", "portal", "--svg", str(missing), "--db", sales_db)
    assert done.returncode == 1
    assert f"cannot write the SVG heat map to {missing}: No such file or directory" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    done = run("matrix", "--type", "portal", "--png", str(tmp_path), "--db", sales_db)
    assert done.returncode == 1
    assert f"cannot write the PNG heat map to {tmp_path}: Is a directory" in done.stderr


def loaded_cairo() -> Path:
    """The file of libcairo this process uses (cairosvg loaded it)."""
    heatmap_png([], title="load cairo")
    for line in Path("/proc/self/maps").read_text().splitlines():
        path = line.split()[-1]
        if Path(path).name.startswith("libcairo.so"):
            return Path(path).resolve()
    raise AssertionError("libcairo is not mapped into this process")


def test_missing_cairo_is_a_clear_error(sales_db: str, tmp_path: Path) -> None:
    # The library is really hidden: /dev/null bind-mounted over it, in a mount
    # namespace of the command's own, which needs root (as CI and `make test` run).
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("hiding libcairo2 needs root and unshare(1)")
    hide = (
        "unshare",
        "--mount",
        "--",
        "sh",
        "-c",
        'mount --bind /dev/null "$1" && shift && exec "$@"',
    )
    prefix = (*hide, "sh", str(loaded_cairo()))
    png, svg = tmp_path / "m.png", tmp_path / "m.svg"
    done = run("matrix", "--type", "portal", "--png", str(png), "--db", sales_db, prefix=prefix)
    assert done.returncode == 1, done.stderr
    assert f"cannot write the PNG heat map to {png}" in done.stderr
    assert "apt install libcairo2" in done.stderr and "--svg works without it" in done.stderr
    assert not png.exists()
    done = run("matrix", "--type", "portal", "--svg", str(svg), "--db", sales_db, prefix=prefix)
    assert done.returncode == 0, done.stderr
    assert svg.is_file()


def test_rule_names_are_shown_as_written_in_the_table(sales_db: str) -> None:
    done = run("matrix", "--type", "portal", "--db", sales_db)
    assert done.returncode == 0, done.stderr
    assert MARKUP_RULE in done.stdout  # not read as rich markup
