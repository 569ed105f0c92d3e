"""The ``bastion`` command.

    $ bastion install sale --db sqlite:///var/app.db --addons-path ./addons
    $ bastion models --db sqlite:///var/app.db

A thin shell over the public Python API: it decides nothing about access itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastion.errors import BastionError
from bastion.registry import DEFAULT_URL, Registry

app = typer.Typer(help="Bastion: Odoo's security model, enforced in the data layer.")

DbOption = Annotated[str, typer.Option("--db", envvar="BASTION_DB_URL", help="SQLAlchemy URL")]
AddonsOption = Annotated[
    list[Path] | None,
    typer.Option("--addons-path", help="A folder of addons (repeatable)"),
]


def _registry(db: str, addons_path: list[Path] | None) -> Registry:
    if db.startswith("sqlite:///") and not db.startswith("sqlite:////"):
        Path(db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Registry(db, addons_path=addons_path or [])


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
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"installed: {', '.join(registry.loaded)}")


@app.command()
def models(db: DbOption = DEFAULT_URL, addons_path: AddonsOption = None) -> None:
    """List the models of the installed addons."""
    registry = _registry(db, addons_path)
    for name, spec in sorted(registry.specs.items()):
        typer.echo(f"{name:30} {spec.description} ({spec.module})")


def main() -> None:
    app()
