"""Bastion: Odoo's data-driven security model, enforced in the data layer.

>>> from bastion import Registry
>>> reg = Registry("sqlite:///var/app.db")
>>> reg.install("base")
>>> with reg.transaction() as env:
...     portal = env.ref("base.group_portal")
"""

from .errors import (
    AccessError,
    BastionError,
    ConstructionError,
    DomainError,
    ExpressionError,
    LoadError,
    MissingError,
    RuntimeDenial,
    ValidationError,
)
from .orm import SUPERUSER_ID, Command, Environment, Model, fields, public
from .registry import Registry

__all__ = [
    "AccessError",
    "BastionError",
    "Command",
    "ConstructionError",
    "DomainError",
    "Environment",
    "ExpressionError",
    "LoadError",
    "MissingError",
    "Model",
    "Registry",
    "RuntimeDenial",
    "SUPERUSER_ID",
    "ValidationError",
    "fields",
    "public",
]
