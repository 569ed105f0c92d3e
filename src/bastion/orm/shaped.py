"""The SQL of a caller's domain, built once per shape (``bastion.domain.shapes``).

A search's statement is kept (``bastion.orm.kept``) when it is built from parts that
serve many calls. The rules are such parts (``SecurityPolicy.rule_sql``); so is the
caller's domain once its values are parameters: the expression of ``[('state', 'in',
[...])]`` is built here once, and every search of that shape, whoever makes it, passes
its own values. The expression depends on the shape and the models only, so it is kept
per registry and schema generation, as the rules' templates are.

A shape whose SQL would read the user's rules on other models (a sub-query of a
path, ``any``, a to-many field) has none here: ``domain_shape`` leaves those out, and
the compile is refused should the compiler ask for a rule all the same.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bastion.domain import Node, SqlCompiler
from bastion.domain.schema import ModelInfo
from bastion.domain.shapes import domain_shape
from bastion.domain.sql import RuleSql, SqlBool
from bastion.memo import BoundedMemo

if TYPE_CHECKING:
    from .model import Model
    from .registry import ModelRegistry

# Shapes kept per registry at most: an application's searches have few, but the API's
# callers choose theirs. Past it the least asked for go first.
MAX_SHAPES = 4096
# For the whole process, so that no two templates ever share a parameter prefix; next()
# on a count is atomic, so two threads never take the same number.
_NUMBERS = itertools.count()

# A shape's template: the table it was compiled for, its parameters' prefix, its SQL.
# None: the shape reads other models' rules.
Template = tuple[sa.Table, str, SqlBool] | None


@dataclass
class _Templates:
    generation: int
    clauses: BoundedMemo[tuple[Node, str], Template] = field(
        default_factory=lambda: BoundedMemo(MAX_SHAPES)
    )


_TEMPLATES: weakref.WeakKeyDictionary[ModelRegistry, _Templates] = weakref.WeakKeyDictionary()


class _ReadsRules(Exception):
    """The compiler asked for a user's rules on some model."""


def _refuse(model: ModelInfo) -> Node | None:
    raise _ReadsRules(model.model_name)


def domain_sql(records: Model, node: Node, table: sa.FromClause) -> RuleSql | None:
    """``node`` (a caller's parsed domain) as SQL on ``records``' own table, shared by
    every search of its shape, with this call's values as its parameters; None when it
    has no shape (it is then compiled for this call)."""
    spec = records._spec
    if table is not spec.table:
        return None
    shaped = domain_shape(node, spec)
    if shaped is None:
        return None
    shape, values = shaped
    templates = _templates(records.env.registry)
    key = (shape, spec.model_name)
    try:
        found = templates.clauses[key]
    except KeyError:
        found = templates.clauses[key] = _compiled(records.env.registry, shape, spec)
    except TypeError:
        return None  # a value left in the shape that cannot be a key
    if found is not None and found[0] is not spec.table:
        # Compiled by a search that ran while an addon loaded, for the models this
        # generation replaced.
        found = templates.clauses[key] = _compiled(records.env.registry, shape, spec)
    if found is None:
        return None
    _, prefix, clause = found
    return RuleSql(clause, {f"{prefix}{i}": value for i, value in enumerate(values)})


def _templates(registry: ModelRegistry) -> _Templates:
    generation = registry.schema_generation
    templates = _TEMPLATES.get(registry)
    if templates is None or templates.generation != generation:
        templates = _TEMPLATES[registry] = _Templates(generation)
    return templates


def _compiled(registry: ModelRegistry, shape: Node, spec: ModelInfo) -> Template:
    prefix = f"dom{next(_NUMBERS)}_"
    try:
        clause = SqlCompiler(registry, _refuse, value_prefix=prefix).compile(
            shape, spec, spec.table
        )
    except _ReadsRules:
        return None
    return spec.table, prefix, clause
