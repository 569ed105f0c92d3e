"""The ``bastion`` command.

    $ bastion init --db sqlite:///var/app.db --demo       # install the apps (+ demo data)
    $ bastion serve --config bastion.toml                  # serve the portal and back office
    $ bastion user add alice --name "Alice" --type portal  # asks for the password
    $ bastion user passwd alice
    $ bastion apikey create alice --name "sync" --days 90 --read-only
    $ bastion demo                                         # all of it, on var/demo.db
    $ bastion install sale --db sqlite:///var/app.db --addons-path ./addons
    $ bastion models --db sqlite:///var/app.db
    $ bastion audit odoo ./odoo-addons --format sarif --fail-on high
    $ bastion explain --user alice --model sale.order --id 42 --op read
    $ bastion matrix --type portal [--csv] [--svg portal.svg] [--png portal.png]
    $ bastion verify policy.yaml
    $ bastion audit db --db postgresql://... --require-2fa base.group_user

A thin shell over the public Python API: it decides nothing about access itself.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bastion.audit.odoo.cli import audit_app
from bastion.errors import BastionError
from bastion.registry import DEFAULT_URL, Registry

if TYPE_CHECKING:
    from bastion.security.matrix import Cell

APPS = ("contacts", "sale", "account", "project", "helpdesk", "portal")
DEMO_DB = Path("var/demo.db")
DEMO_SECRET = Path("var/secret.key")
USER_TYPES = {
    "internal": "base.group_user",
    "portal": "base.group_portal",
}

app = typer.Typer(help="Bastion: Odoo's security model, enforced in the data layer.")
user_app = typer.Typer(help="Manage users: add one, change a password.")
app.add_typer(user_app, name="user")
apikey_app = typer.Typer(help="Manage API keys: create (shown once), list, revoke.")
app.add_typer(apikey_app, name="apikey")
app.add_typer(audit_app, name="audit")
console = Console()

DbOption = Annotated[str, typer.Option("--db", envvar="BASTION_DB_URL", help="SQLAlchemy URL")]
AddonsOption = Annotated[
    list[Path] | None,
    typer.Option("--addons-path", help="A folder of addons (repeatable)"),
]


def _registry(db: str, addons_path: list[Path] | None = None) -> Registry:
    if db.startswith("sqlite:///") and not db.startswith("sqlite:////"):
        Path(db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Registry(db, addons_path=addons_path or [])


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


@app.command()
def install(
    addons: Annotated[list[str], typer.Argument(help="Addons to install")],
    db: DbOption = DEFAULT_URL,
    addons_path: AddonsOption = None,
) -> None:
    """Install addons (and their dependencies) into a database."""
    try:
        registry = _registry(db, addons_path)
        registry.install(*addons)
    except BastionError as exc:
        raise _fail(exc) from None
    typer.echo(f"installed: {', '.join(registry.loaded)}")


@app.command()
def models(db: DbOption = DEFAULT_URL, addons_path: AddonsOption = None) -> None:
    """List the models of the installed addons."""
    registry = _registry(db, addons_path)
    for name, spec in sorted(registry.specs.items()):
        typer.echo(f"{name:30} {spec.description} ({spec.module})")


@app.command()
def init(
    db: DbOption = DEFAULT_URL,
    demo: Annotated[bool, typer.Option(help="Also load the demo data")] = False,
    addons_path: AddonsOption = None,
) -> None:
    """Create a database with the business apps (contacts, sale, account, project,
    helpdesk, portal), and the demo data with --demo."""
    try:
        registry = _registry(db, addons_path)
        registry.install(*APPS)
        logins = _load_demo(registry) if demo else []
    except BastionError as exc:
        raise _fail(exc) from None
    typer.echo(f"installed: {', '.join(registry.loaded)}")
    if logins:
        _print_logins(logins, None)


def _load_demo(registry: Registry) -> list[tuple[str, str, str, str]]:
    from bastion.demo import load_demo  # noqa: PLC0415 - only this command needs it

    return [(d.login, d.password, d.role, d.customer or "") for d in load_demo(registry)]


def _print_logins(logins: list[tuple[str, str, str, str]], url: str | None) -> None:
    table = Table(title="Demo logins")
    for column in ("login", "password", "role", "customer"):
        table.add_column(column)
    for row in logins:
        table.add_row(*row)
    console.print(table)
    if url:
        console.print(f"Open [bold]{url}[/bold] and log in with one of them.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    config: Annotated[
        Path | None, typer.Option(help="A TOML settings file (BASTION_CONFIG)")
    ] = None,
) -> None:
    """Serve the portal, back office and login pages with uvicorn (settings from
    BASTION_* variables or the TOML file)."""
    import uvicorn  # noqa: PLC0415

    from bastion.settings import load_settings  # noqa: PLC0415

    if config is not None:
        os.environ["BASTION_CONFIG"] = str(config)
    try:
        settings = load_settings()
    except Exception as exc:  # noqa: BLE001 - pydantic's message names the setting
        raise _fail(exc) from None
    uvicorn.run(
        "bastion.web.server:app_from_environment",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8069,
    reset: Annotated[bool, typer.Option(help="Recreate the demo database")] = False,
) -> None:
    """The demo: var/demo.db with demo data (created once), served on 127.0.0.1."""
    try:
        url, logins = prepare_demo(DEMO_DB, DEMO_SECRET, reset=reset)
    except BastionError as exc:
        raise _fail(exc) from None
    _print_logins(logins, f"http://127.0.0.1:{port}/web/login")
    os.environ.update(BASTION_DB_URL=url, BASTION_SECRET_KEY=DEMO_SECRET.read_text().strip())
    serve(host="127.0.0.1", port=port)


def prepare_demo(
    database: Path, secret: Path, *, reset: bool = False
) -> tuple[str, list[tuple[str, str, str, str]]]:
    """Create the demo database (once) and a random secret key file; return the
    database URL and the demo logins."""
    if reset and database.exists():
        database.unlink()
    database.parent.mkdir(parents=True, exist_ok=True)
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(48))
        secret.chmod(0o600)
    url = f"sqlite:///{database}"
    registry = Registry(url)
    try:
        if "portal" in registry.loaded:
            return url, _demo_logins()
        registry.install(*APPS)
        return url, _load_demo(registry)
    finally:
        registry.dispose()


def _demo_logins() -> list[tuple[str, str, str, str]]:
    from bastion.demo import DEMO_LOGINS  # noqa: PLC0415

    return [(d.login, d.password, d.role, d.customer or "") for d in DEMO_LOGINS]


# -- users ---------------------------------------------------------------------------------
@user_app.command("add")
def user_add(
    login: Annotated[str, typer.Argument(help="The new user's login")],
    name: Annotated[str, typer.Option(help="Full name")],
    user_type: Annotated[str, typer.Option("--type", help="internal or portal")] = "internal",
    group: Annotated[
        list[str] | None, typer.Option(help="Another group's XML id (repeatable)")
    ] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    db: DbOption = DEFAULT_URL,
) -> None:
    """Create a user (the password is asked for, twice, unless given)."""
    from bastion.auth.accounts import set_password  # noqa: PLC0415

    if user_type not in USER_TYPES:
        raise _fail(ValueError(f"--type must be one of {', '.join(USER_TYPES)}"))
    try:
        registry = _registry(db)
        with registry.transaction() as env:
            groups = [env.ref(USER_TYPES[user_type])] + [env.ref(x) for x in group or []]
            company = env.ref("base.main_company")
            assert company is not None
            user = env["res.users"].create(
                {
                    "login": login,
                    "name": name,
                    "group_ids": [g.id for g in groups if g is not None],
                    "company_id": company.id,
                    "company_ids": [company.id],
                }
            )
            set_password(user, password)
    except BastionError as exc:
        raise _fail(exc) from None
    typer.echo(f"user {login!r} created ({user_type})")


@user_app.command("passwd")
def user_passwd(
    login: Annotated[str, typer.Argument(help="The user's login")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    db: DbOption = DEFAULT_URL,
) -> None:
    """Set a user's password; their sessions end."""
    from bastion.auth.accounts import set_password  # noqa: PLC0415

    try:
        registry = _registry(db)
        with registry.transaction() as env:
            users = env["res.users"].search(
                [("login", "=", login), ("active", "in", [True, False])], limit=1
            )
            if not users:
                raise _fail(LookupError(f"no user with login {login!r}"))
            set_password(users, password)
            env["res.users.session"].search([("user_id", "=", users.id)]).unlink()
    except BastionError as exc:
        raise _fail(exc) from None
    typer.echo(f"password of {login!r} changed; their sessions have ended")


# -- explain ----------------------------------------------------------------------------------
@app.command()
def explain(
    user: Annotated[str, typer.Option("--user", help="The user's login")],
    model: Annotated[str, typer.Option("--model", help="The model, e.g. sale.order")],
    op: Annotated[str, typer.Option("--op", help="read, write, create or unlink")] = "read",
    record_id: Annotated[int | None, typer.Option("--id", help="One record's id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = DEFAULT_URL,
    addons_path: AddonsOption = None,
) -> None:
    """Explain a decision: the user's groups and how they were reached, the access
    rights, every record rule with its domain and, term by term, whether the record
    matches; then the verdict in one sentence. Exit code 0 if allowed, 1 if not."""
    import dataclasses  # noqa: PLC0415
    import json  # noqa: PLC0415

    from bastion.security.explain import explain as explain_decision  # noqa: PLC0415

    if op not in ("read", "write", "create", "unlink"):
        raise _fail(ValueError("--op must be read, write, create or unlink"))
    try:
        with _registry(db, addons_path).transaction() as env:
            found = explain_decision(env, _user(env, user), model, op, record_id)
    except BastionError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(found), indent=2, default=str))
    else:
        _print_explanation(found)
    raise typer.Exit(0 if found.allowed else 1)


def _print_explanation(found: Any) -> None:
    groups = Table(title=f"Groups of {found.login}")
    groups.add_column("group")
    groups.add_column("reached through")
    for group in found.groups:
        groups.add_row(group.name, " -> ".join(group.chain) if len(group.chain) > 1 else "direct")
    console.print(groups)
    rows = Table(title=f"Access rights on {found.model}")
    for column in ("row", "group", "perms", "applies", f"grants {found.operation}"):
        rows.add_column(column)
    for row in found.access_rows:
        rows.add_row(row.name, row.group, ",".join(row.perms), _yes(row.applies), _yes(row.grants))
    console.print(rows)
    rules = Table(title=f"Record rules for {found.operation}")
    for column in ("rule", "kind", "domain for this user", "matches"):
        rules.add_column(column)
    for kind, listed in (("global", found.global_rules), ("group", found.group_rules)):
        for rule in listed:
            terms = "\n".join(f"  {t.term}: {_yes(t.matches)}" for t in rule.terms)
            rules.add_row(
                rule.name, kind, rule.error or f"{rule.domain}\n{terms}", _yes(rule.matches)
            )
    console.print(rules)
    if found.fields:
        fields = Table(title="Fields restricted by groups")
        for column in ("field", "groups", "visible"):
            fields.add_column(column)
        for item in found.fields:
            fields.add_row(item.field, item.groups, _yes(item.visible))
        console.print(fields)
    console.print(found.sentence, markup=False)


@app.command()
def matrix(
    user: Annotated[str | None, typer.Option("--user", help="A user's login")] = None,
    user_type: Annotated[
        str | None, typer.Option("--type", help="internal, portal or public")
    ] = None,
    csv_output: Annotated[bool, typer.Option("--csv", help="CSV instead of a table")] = False,
    every_model: Annotated[
        bool, typer.Option("--all", help="Also the models with no access at all")
    ] = False,
    svg: Annotated[
        Path | None, typer.Option("--svg", help="Also write a heat-map image (SVG) there")
    ] = None,
    png: Annotated[
        Path | None,
        typer.Option("--png", help="Also write a heat-map image (PNG, needs libcairo2) there"),
    ] = None,
    db: DbOption = DEFAULT_URL,
    addons_path: AddonsOption = None,
) -> None:
    """Models x CRUD for a user or a user type: what the access rights grant, and the
    record rules that restrict each cell; --svg/--png also draw it as a heat map."""
    from bastion.security.matrix import access_matrix  # noqa: PLC0415

    try:
        with _registry(db, addons_path).transaction() as env:
            owner = _user(env, user) if user else None
            cells = access_matrix(env, user=owner, user_type=user_type)
    except BastionError as exc:
        raise _fail(exc) from None
    shown = {c.model for c in cells if every_model or c.allowed}
    cells = [c for c in cells if c.model in shown]
    title = f"Access of {user or user_type}"
    written = [_write_heatmap(cells, title, path, kind) for path, kind in _images(svg, png)]
    if csv_output:
        _print_matrix_csv(cells)
    else:
        _print_matrix_table(cells, title)
    for line in written:
        typer.echo(line, err=True)  # stderr: stdout stays the table or the CSV


MATRIX_OPERATIONS = ("read", "write", "create", "unlink")


def _images(svg: Path | None, png: Path | None) -> list[tuple[Path, str]]:
    return [(path, kind) for path, kind in ((svg, "SVG"), (png, "PNG")) if path is not None]


def _write_heatmap(cells: list[Cell], title: str, path: Path, kind: str) -> str:
    from bastion.audit.heatmap import heatmap_png, heatmap_svg  # noqa: PLC0415

    try:
        if kind == "PNG":
            path.write_bytes(heatmap_png(cells, title=title))
        else:
            path.write_text(heatmap_svg(cells, title=title), encoding="utf-8")
    except BastionError as exc:
        raise _fail(BastionError(f"cannot write the {kind} heat map to {path}: {exc}")) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _fail(BastionError(f"cannot write the {kind} heat map to {path}: {reason}")) from None
    return f"wrote the {kind} heat map to {path}"


def _print_matrix_csv(cells: list[Cell]) -> None:
    import csv  # noqa: PLC0415
    import sys  # noqa: PLC0415

    by_cell = {(c.model, c.operation): c for c in cells}
    writer = csv.writer(sys.stdout)
    writer.writerow(["model", "operation", "allowed", "rules"])
    for model in sorted({c.model for c in cells}):
        for op in MATRIX_OPERATIONS:
            cell = by_cell[(model, op)]
            writer.writerow([model, op, int(cell.allowed), "; ".join(cell.rules)])


def _print_matrix_table(cells: list[Cell], title: str) -> None:
    from rich.text import Text  # noqa: PLC0415

    by_cell = {(c.model, c.operation): c for c in cells}
    table = Table(title=Text(title))
    table.add_column("model")
    for op in MATRIX_OPERATIONS:
        table.add_column(op)
    for model in sorted({c.model for c in cells}):
        row = []
        for op in MATRIX_OPERATIONS:
            cell = by_cell[(model, op)]
            # Text, not markup: rule names come from the database and may hold "[".
            # Colours read as risk, as in the heat map: every record red, denied dim.
            if not cell.allowed:
                row.append(Text("no", style="dim"))
            elif cell.rules:
                row.append(Text.assemble(("rules: ", "yellow"), "; ".join(cell.rules)))
            else:
                row.append(Text("all", style="bold red"))
        table.add_row(Text(model), *row)
    console.print(table)


@app.command()
def verify(
    policy: Annotated[Path, typer.Argument(help="A YAML file of assertions")],
    db: DbOption = DEFAULT_URL,
    addons_path: AddonsOption = None,
) -> None:
    """Check policy assertions ("portal users cannot write any model", "alice can
    read sale.order where ..."); exit code 0 when all hold, 1 otherwise."""
    from bastion.audit.verify import load_policy  # noqa: PLC0415
    from bastion.audit.verify import verify as verify_policy  # noqa: PLC0415

    try:
        assertions = load_policy(policy)
        with _registry(db, addons_path).transaction() as env:
            outcomes = verify_policy(env, assertions)
    except BastionError as exc:
        raise _fail(exc) from None
    failed = [o for o in outcomes if not o.passed]
    for outcome in outcomes:
        mark = "[green]ok[/green]  " if outcome.passed else "[red]FAIL[/red]"
        console.print(
            f"{mark} {outcome.assertion.index}. {outcome.assertion.text}", highlight=False
        )
        for failure in outcome.failures:
            console.print(f"       - {failure}", markup=False, highlight=False)
    console.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed", highlight=False)
    raise typer.Exit(1 if failed else 0)


@audit_app.command("db")
def audit_db(
    db: DbOption = DEFAULT_URL,
    require_2fa: Annotated[
        list[str] | None, typer.Option(help="A group (XML id) that must use 2FA (repeatable)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    fail_on: Annotated[str, typer.Option(help="Exit 1 from this severity up, or 'none'")] = "high",
    http: Annotated[
        bool, typer.Option(help="Also simulate the customers through the portal's routes")
    ] = True,
    addons_path: AddonsOption = None,
) -> None:
    """Audit a Bastion database: user types, access rights to everyone, portal models
    without rules, leaky rules, customer isolation (simulated through the data layer and
    the portal, rolled back), rules that fail, missing 2FA, admin passwords from the
    common list, stale credentials and share links."""
    import json  # noqa: PLC0415

    from bastion.audit.database import SEVERITIES, audit_database  # noqa: PLC0415

    if fail_on != "none" and fail_on not in SEVERITIES:
        raise _fail(ValueError(f"--fail-on must be one of {', '.join(SEVERITIES)} or none"))
    try:
        with _registry(db, addons_path).transaction() as env:
            findings = audit_database(env, require_2fa_groups=require_2fa or [], http=http)
    except BastionError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for f in findings:
            console.print(
                f"[bold]{f.severity.upper()}[/bold] {f.check}: {f.message}", highlight=False
            )
            for row in f.rows:
                console.print(f"    {row}", markup=False, highlight=False)
            console.print(f"    fix: {f.fix}", markup=False, highlight=False)
        console.print(f"{len(findings)} finding(s)", highlight=False)
    threshold = len(SEVERITIES) if fail_on == "none" else SEVERITIES.index(fail_on)
    failing = any(SEVERITIES.index(f.severity) >= threshold for f in findings)
    raise typer.Exit(1 if failing else 0)


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


# -- API keys -------------------------------------------------------------------------------
def _user(env: Any, login: str) -> Any:
    users = env["res.users"].search([("login", "=", login)], limit=1)
    if not users:
        raise _fail(LookupError(f"no active user with login {login!r}"))
    return users


@apikey_app.command("create")
def apikey_create(
    login: Annotated[str, typer.Argument(help="The key's owner")],
    name: Annotated[str, typer.Option(help="What the key is for")],
    days: Annotated[
        int | None, typer.Option(help="Lifetime in days (required unless administrator)")
    ] = 90,
    read_only: Annotated[bool, typer.Option("--read-only", help="Only read")] = False,
    model: Annotated[
        list[str] | None, typer.Option(help="Limit the key to this model (repeatable)")
    ] = None,
    db: DbOption = DEFAULT_URL,
) -> None:
    """Create an API key and print it (the only time it is shown)."""
    from bastion.auth.apikeys import create_api_key  # noqa: PLC0415

    try:
        with _registry(db).transaction() as env:
            key = create_api_key(
                _user(env, login), name, days=days, read_only=read_only, models=model
            )
    except BastionError as exc:
        raise _fail(exc) from None
    typer.echo(key)


@apikey_app.command("list")
def apikey_list(
    login: Annotated[str, typer.Argument(help="The keys' owner")], db: DbOption = DEFAULT_URL
) -> None:
    """List a user's API keys (never the keys themselves)."""
    from bastion.auth.apikeys import api_keys_of  # noqa: PLC0415

    with _registry(db).transaction() as env:
        keys = api_keys_of(_user(env, login))
    table = Table(title=f"API keys of {login}")
    for column in ("id", "name", "scope", "models", "expires", "last used"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            str(key.id),
            key.name,
            "read" if key.read_only else "all",
            ", ".join(sorted(key.models or ())),
            str(key.expires_at or "never"),
            str(key.last_used_at or ""),
        )
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    login: Annotated[str, typer.Argument(help="The key's owner")],
    key_id: Annotated[int, typer.Argument(help="The key's id (from apikey list)")],
    db: DbOption = DEFAULT_URL,
) -> None:
    """Revoke one API key of a user."""
    from bastion.auth.apikeys import revoke_api_key  # noqa: PLC0415

    with _registry(db).transaction() as env:
        if not revoke_api_key(_user(env, login), key_id):
            raise _fail(LookupError(f"{login!r} has no API key {key_id}"))
    typer.echo(f"API key {key_id} of {login!r} revoked")


def main() -> None:
    app()
