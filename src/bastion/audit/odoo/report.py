"""The audit's findings as rich text, JSON, SARIF 2.1.0 or an HTML page.

>>> json_report(report.findings)                                    # doctest: +SKIP
'[{"check": "BST-ODOO-RULE-LEAKY", "severity": "high", "file": ..., "line": 12, ...}]'

SARIF is what GitHub code scanning reads: one rule per check id, one result per
finding, locations relative to the audited path. The HTML page is rendered by Jinja2
with autoescaping on, so names from the audited files are always escaped.
"""

from __future__ import annotations

import json
from io import StringIO

from jinja2 import Environment, select_autoescape
from rich.console import Console
from rich.table import Table

from .findings import CHECKS, Finding, Severity
from .permissions import OPERATIONS, Matrix

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {
    Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
    Severity.LOW: "note", Severity.INFO: "note",
}  # fmt: skip
STYLES = {
    Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan", Severity.INFO: "dim",
}  # fmt: skip


def json_report(findings: list[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2) + "\n"


def text_report(findings: list[Finding], *, width: int = 120, color: bool = False) -> str:
    buffer = StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color)
    if not findings:
        console.print("No findings.")
        return buffer.getvalue()
    table = Table(show_lines=False)
    for column in ("severity", "check", "where", "message"):
        table.add_column(column, overflow="fold")
    for item in findings:
        where = f"{item.file}:{item.line}" if item.line else item.file
        style = STYLES[item.severity]
        table.add_row(f"[{style}]{item.severity.value}[/]", item.check, where, item.message)
    console.print(table)
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    summary = ", ".join(f"{n} {s.value}" for s, n in reversed(counts.items()) if n)
    console.print(f"{len(findings)} findings: {summary}")
    return buffer.getvalue()


def sarif_report(findings: list[Finding], tool_version: str = "0") -> str:
    used = sorted({f.check for f in findings})
    rules = [
        {
            "id": check,
            "name": check,
            "shortDescription": {"text": CHECKS[check].title},
            "help": {"text": CHECKS[check].fix},
            "defaultConfiguration": {"level": SARIF_LEVELS[CHECKS[check].severity]},
            "properties": {"severity": CHECKS[check].severity.value},
        }
        for check in used
    ]
    results = []
    for item in findings:
        region = {"startLine": item.line} if item.line else {}
        location: dict[str, object] = {"artifactLocation": {"uri": item.file or "."}}
        if region:
            location["region"] = region
        results.append(
            {
                "ruleId": item.check,
                "ruleIndex": used.index(item.check),
                "level": SARIF_LEVELS[item.severity],
                "message": {"text": item.message},
                "locations": [{"physicalLocation": location}],
                "properties": {"severity": item.severity.value},
            }
        )
    driver = {
        "name": "bastion-audit-odoo",
        "version": tool_version,
        "informationUri": "https://github.com/bastion/bastion/blob/main/docs/audit.md",
        "rules": rules,
    }
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
    return json.dumps(document, indent=2) + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bastion audit of Odoo addons</title>
<style>
body{font-family:sans-serif;margin:2em} table{border-collapse:collapse;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.critical{background:#b00020;color:#fff}.high{background:#f4a3a3}.medium{background:#ffe08a}
.low{background:#cde8f6}.info{background:#eee}
/* the fills of bastion.audit.heatmap (bastion matrix --svg): red granted, grey-green denied */
.granted{background:#c62828;color:#ffffff}.denied{background:#dde5dd;color:#5b6b5b}
</style></head><body>
<h1>Bastion audit of Odoo addons</h1>
<p>{{ findings|length }} findings in {{ addons|length }} addons: {{ addons|join(", ") }}.</p>
<h2>Findings</h2>
<table><tr><th>severity</th><th>check</th><th>where</th><th>message</th><th>fix</th></tr>
{% for f in findings %}<tr><td class="{{ f.severity.value }}">{{ f.severity.value }}</td>
<td>{{ f.check }}</td><td>{{ f.file }}{% if f.line %}:{{ f.line }}{% endif %}</td>
<td>{{ f.message }}</td><td>{{ f.fix }}</td></tr>
{% endfor %}</table>
<h2>Effective access of external users (heat map)</h2>
{% for kind in kinds %}<h3>{{ kind }}</h3>
{% if matrix[kind] %}<table><tr><th>model</th>{% for op in operations %}<th>{{ op }}</th>
{% endfor %}</tr>{% for model, ops in matrix[kind]|dictsort %}<tr><td>{{ model }}</td>
{% for op in operations %}{% if op in ops %}<td class="granted"
 title="{{ ops[op]|map(attribute='xmlid')|join(', ') }}">yes</td>
{% else %}<td class="denied">no</td>{% endif %}
{% endfor %}</tr>{% endfor %}</table>{% else %}<p>No access granted.</p>{% endif %}
{% endfor %}</body></html>
"""


def html_report(findings: list[Finding], matrix: Matrix, addons: list[str]) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(_HTML)
    return template.render(
        findings=findings,
        matrix=matrix,
        kinds=("portal", "public"),
        operations=OPERATIONS,
        addons=addons,
    )
