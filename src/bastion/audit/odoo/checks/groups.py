"""Group checks: portal/public users reaching internal or admin groups, mixed user
types, widened portal/public groups, admin groups given to every new or internal user.

>>> [f.check for f in check_groups(tree)]                            # doctest: +SKIP
['BST-ODOO-PORTAL-INTERNAL-GROUP']
"""

from __future__ import annotations

from ..catalog import (
    ADMIN_GROUPS,
    DEFAULT_USER,
    EXTERNAL_TEMPLATE_USERS,
    INTERNAL_GROUP,
    PORTAL_GROUP,
    PUBLIC_GROUP,
    USER_TYPE_GROUPS,
)
from ..findings import Finding, finding
from ..permissions import GroupGraph
from ..security_files import Place, SecurityData
from ..workspace import OdooTree

EXTERNAL = (PORTAL_GROUP, PUBLIC_GROUP)


def edge_place(security: SecurityData, source: str, target: str) -> Place | None:
    """Where the implication ``source -> target`` is written (its group record)."""
    group = security.groups.get(source)
    if group is not None and target in group.implied:
        for added, place, _addon in group.extensions:
            if target in added:
                return place
        return group.places[0] if group.places else None
    other = security.groups.get(target)
    if other is not None and source in other.implied_by and other.places:
        return other.places[0]
    return None


def chain_place(security: SecurityData, chain: list[str]) -> Place | None:
    for source, target in zip(chain, chain[1:], strict=False):
        place = edge_place(security, source, target)
        if place is not None:
            return place
    return None


def check_groups(tree: OdooTree) -> list[Finding]:
    security = tree.security
    graph = GroupGraph.of(security)
    found: list[Finding] = []
    for start in EXTERNAL:
        reach = graph.closure([start])
        targets = [INTERNAL_GROUP] if INTERNAL_GROUP in reach else sorted(ADMIN_GROUPS & reach)
        for target in targets[:1]:
            chain = graph.chain([start], target)
            place = chain_place(security, chain)
            message = (
                f"every {start} user is also in {target}: "
                + " -> ".join(chain)
                + " (a portal or public user must never be internal or admin)"
            )
            found.append(_at("BST-ODOO-PORTAL-INTERNAL-GROUP", place, message))
    found.extend(_user_types(security, graph))
    found.extend(_widened(security, graph))
    found.extend(_implies_admin(security))
    return found


def _at(check: str, place: Place | None, message: str) -> Finding:
    return finding(check, place.rel if place else "", place.line if place else None, message)


def _user_types(security: SecurityData, graph: GroupGraph) -> list[Finding]:
    found: list[Finding] = []
    for user in security.users:
        reach = graph.closure(user.groups)
        types = [kind for kind, group in USER_TYPE_GROUPS.items() if group in reach]
        privileged = sorted(({INTERNAL_GROUP} | ADMIN_GROUPS) & reach)
        if user.xmlid in EXTERNAL_TEMPLATE_USERS and privileged:
            message = (
                f"{user.xmlid} is the template of new external users, and it is given "
                f"{', '.join(privileged)}: every new portal or public user would be internal"
            )
            found.append(_at("BST-ODOO-USER-TYPE-MIX", user.place, message))
        elif len(types) > 1:
            message = (
                f"user {user.xmlid} is of several user types at once ({', '.join(types)}) "
                f"through groups {', '.join(user.groups)}"
            )
            found.append(_at("BST-ODOO-USER-TYPE-MIX", user.place, message))
        elif user.xmlid == DEFAULT_USER and ADMIN_GROUPS & reach:
            admins = ", ".join(sorted(ADMIN_GROUPS & reach))
            message = f"{DEFAULT_USER} (the template of new users) is given {admins}"
            found.append(_at("BST-ODOO-DEFAULT-USER-WIDENED", user.place, message))
    internal = graph.closure([INTERNAL_GROUP])
    for admin in sorted(ADMIN_GROUPS & internal):
        chain = graph.chain([INTERNAL_GROUP], admin)
        message = f"every internal user is an administrator: {' -> '.join(chain)}"
        place = chain_place(security, chain)
        found.append(_at("BST-ODOO-DEFAULT-USER-WIDENED", place, message))
    return found


def _widened(security: SecurityData, graph: GroupGraph) -> list[Finding]:
    found: list[Finding] = []
    for start in EXTERNAL:
        group = security.groups.get(start)
        for added, place, addon in group.extensions if group else []:
            message = f"addon {addon} adds {', '.join(added)} to the implied groups of {start}"
            found.append(_at("BST-ODOO-PORTAL-GROUP-WIDENED", place, message))
    for other in security.groups.values():
        for start in EXTERNAL:
            if start in other.implied_by and other.places:
                message = f"{other.xmlid} is implied by {start}: every such user receives it"
                found.append(_at("BST-ODOO-PORTAL-GROUP-WIDENED", other.places[0], message))
    return found


def _implies_admin(security: SecurityData) -> list[Finding]:
    found: list[Finding] = []
    for group in security.groups.values():
        if group.xmlid in ADMIN_GROUPS or group.xmlid == INTERNAL_GROUP:
            continue
        for admin in sorted(ADMIN_GROUPS):
            place = edge_place(security, group.xmlid, admin)
            if place is not None:
                message = f"{group.xmlid} implies {admin}: its members administer the database"
                found.append(_at("BST-ODOO-GROUP-IMPLIES-ADMIN", place, message))
    return found
