"""The data layer: models, fields, registry, environments and recordsets."""

from . import fields
from .commands import Command
from .environment import SUPERUSER_ID, Environment, Scope
from .model import Model, public
from .registry import ModelRegistry

__all__ = [
    "SUPERUSER_ID",
    "Command",
    "Environment",
    "Model",
    "ModelRegistry",
    "Scope",
    "fields",
    "public",
]
