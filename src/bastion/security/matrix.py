"""Models x CRUD for one user or one user type: which operations the access rights
grant, and which record rules then restrict them.

>>> cells = access_matrix(env, user_type="portal")            # doctest: +SKIP
>>> [c for c in cells if c.model == "sale.order" and c.operation == "read"][0].rules
('Sales orders: multi-company', 'Sales orders: portal reads its own')

A user type (``internal``, ``portal``, ``public``) stands for a user holding just that
type's group (and what it implies); a login takes that user's own groups. The answers
come from the same security state the data layer decides with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bastion.errors import BastionError

from .groups import closure
from .policy import SecurityPolicy
from .state import PERMS

if TYPE_CHECKING:
    from bastion.orm import Environment, Model

USER_TYPES = {
    "internal": "base.group_user",
    "portal": "base.group_portal",
    "public": "base.group_public",
}


@dataclass(frozen=True)
class Cell:
    model: str
    operation: str
    allowed: bool
    # the rules that restrict the operation (global ones and the user's group rules);
    # empty when allowed: every record of the model
    rules: tuple[str, ...]


def access_matrix(
    env: Environment, *, user: Model | None = None, user_type: str | None = None
) -> list[Cell]:
    """The matrix for ``user`` or ``user_type`` (exactly one of them)."""
    if (user is None) == (user_type is None):
        raise BastionError("give a user or a user type, not both or neither")
    policy = env.registry.security
    assert isinstance(policy, SecurityPolicy)
    state = policy.state(env(su=True))
    if user is not None:
        groups = state.closure_of(env, int(user.id))
    else:
        xmlid = USER_TYPES.get(str(user_type))
        gid = state.group_id(xmlid) if xmlid else None
        if gid is None:
            raise BastionError(f"unknown user type {user_type!r}; one of {', '.join(USER_TYPES)}")
        groups = closure(state.groups.implied, [gid])
    cells: list[Cell] = []
    for name, spec in sorted(env.registry.specs.items()):
        if spec.abstract:
            continue
        for operation in PERMS:
            allowed = any(
                operation in row.perms and (row.group_id is None or row.group_id in groups)
                for row in state.access.get(name, ())
            )
            rules = tuple(
                rule.name
                for rule in state.rules.get(name, ())
                if operation in rule.perms and (rule.is_global or rule.groups & groups)
            )
            if spec.access_through is not None:
                rules += ("through its document (" + "/".join(spec.access_through) + ")",)
            cells.append(Cell(name, operation, allowed, rules if allowed else ()))
    return cells
