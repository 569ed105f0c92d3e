"""``bastion audit odoo PATH...``: the command line of the static Odoo addon audit.

    $ bastion audit odoo ./addons --format sarif --output audit.sarif --fail-on high

Exit status: 0 when no finding reaches ``--fail-on`` (default ``high``; ``none``
never fails), 1 when one does, 2 for a usage error (a PATH that does not exist).
On a terminal a progress bar runs over the addons.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from . import AuditReport, audit_odoo
from .findings import Severity
from .report import html_report, json_report, sarif_report, text_report
from .tree import Addon

audit_app = typer.Typer(help="Security audits: of Odoo addon trees (static, nothing executed).")


@audit_app.callback()
def audit_group() -> None:
    """Security audits: of Odoo addon trees (static, nothing executed)."""
    # A callback keeps ``odoo`` a subcommand even while it is the only one.


class Format(enum.Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    html = "html"


def render(report: AuditReport, fmt: Format, *, color: bool = False) -> str:
    if fmt is Format.json:
        return json_report(report.findings)
    if fmt is Format.sarif:
        return sarif_report(report.findings)
    if fmt is Format.html:
        return html_report(report.findings, report.matrix, [a.name for a in report.tree.addons])
    return text_report(report.findings, color=color)


def _run(paths: list[Path], console: Console) -> AuditReport:
    if not console.is_terminal:
        return audit_odoo(paths)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[addon]}"))
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("auditing", total=None, addon="")

        def advance(addon: Addon) -> None:
            bar.update(task, advance=1, addon=addon.name)

        return audit_odoo(paths, advance)


@audit_app.command("odoo")
def audit_odoo_command(
    paths: Annotated[list[Path], typer.Argument(help="Addon folders or folders of addons")],
    fmt: Annotated[Format, typer.Option("--format", help="Report format")] = Format.text,
    fail_on: Annotated[
        str, typer.Option(help="Exit 1 when a finding is at least this severe (or 'none')")
    ] = "high",
    output: Annotated[
        Path | None, typer.Option(help="Write the report to this file instead of stdout")
    ] = None,
) -> None:
    """Audit Odoo addons statically: access rights, groups, record rules, code, templates."""
    threshold: Severity | None = None
    if fail_on.strip().lower() != "none":
        try:
            threshold = Severity.parse(fail_on)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--fail-on") from None
    for path in paths:
        if not path.is_dir():
            raise typer.BadParameter(f"{path} is not a folder", param_hint="PATH")
    err = Console(stderr=True)
    report = _run(paths, err)
    if not report.tree.addons:
        err.print(f"no addon (folder with __manifest__.py) under {', '.join(map(str, paths))}")
    text = render(report, fmt, color=output is None and fmt is Format.text and err.is_terminal)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)
    if threshold is not None and any(f.severity.rank >= threshold.rank for f in report.findings):
        raise typer.Exit(1)
