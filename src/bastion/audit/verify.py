"""Policy assertions as data, for CI: ``bastion verify POLICY.yaml``.

.. code-block:: yaml

    assertions:
      - user: alice                      # a login
        can: read
        model: sale.order
        where: [["partner_id.name", "=", "Acme"]]
      - type: portal                     # every active portal user, and the type itself
        cannot: write
        model: "*"                       # any model
      - user: bob
        cannot: read
        model: sale.order
        field: margin

``can``/``cannot`` is one of read, write, create, unlink. Without ``where`` an
assertion is about the access right; with ``where``, about each record the domain
finds (searched as superuser, so the check does not depend on what the user sees):
``can`` needs every one allowed (and at least one found), ``cannot`` needs every one
refused. With ``field``, about the field's groups. Decisions are the data layer's,
taken in each user's own environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bastion.errors import BastionError, ConstructionError
from bastion.security.matrix import USER_TYPES, access_matrix

if TYPE_CHECKING:
    from bastion.orm import Environment, Model

OPERATIONS = ("read", "write", "create", "unlink")
KEYS = frozenset({"user", "type", "can", "cannot", "model", "where", "field", "name"})


class PolicyError(ConstructionError):
    """The policy file is malformed; says which assertion and what is wrong."""


@dataclass(frozen=True)
class Assertion:
    index: int
    text: str
    users: tuple[str, ...]  # logins; empty with a type
    user_type: str | None
    expect: bool  # can (True) or cannot (False)
    operation: str
    model: str
    where: list[Any] | None
    field: str | None


@dataclass
class Outcome:
    assertion: Assertion
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_policy(path: Path) -> list[Assertion]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("assertions"), list):
        raise PolicyError(f"{path}: expected a mapping with a list under 'assertions'")
    return [_assertion(path, n, item) for n, item in enumerate(data["assertions"], 1)]


def _assertion(path: Path, index: int, item: object) -> Assertion:
    where = f"{path}: assertion {index}"
    if not isinstance(item, dict):
        raise PolicyError(f"{where}: expected a mapping, got {item!r}")
    unknown = sorted(set(item) - KEYS)
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if ("can" in item) == ("cannot" in item):
        raise PolicyError(f"{where}: give exactly one of 'can' and 'cannot'")
    operation = item.get("can", item.get("cannot"))
    if operation not in OPERATIONS:
        raise PolicyError(f"{where}: the operation must be one of {', '.join(OPERATIONS)}")
    if ("user" in item) == ("type" in item):
        raise PolicyError(f"{where}: give exactly one of 'user' and 'type'")
    users = item.get("user")
    logins = (users,) if isinstance(users, str) else tuple(users or ())
    if "user" in item and not all(isinstance(u, str) for u in logins):
        raise PolicyError(f"{where}: 'user' is a login or a list of logins")
    user_type = item.get("type")
    if user_type is not None and user_type not in USER_TYPES:
        raise PolicyError(f"{where}: 'type' is one of {', '.join(USER_TYPES)}")
    model = item.get("model")
    if not isinstance(model, str):
        raise PolicyError(f"{where}: 'model' is a model name or '*'")
    domain = item.get("where")
    if domain is not None and not isinstance(domain, list):
        raise PolicyError(f"{where}: 'where' is a domain (a list of terms)")
    fld = item.get("field")
    if fld is not None and (model == "*" or domain is not None):
        raise PolicyError(f"{where}: 'field' needs one model and no 'where'")
    if model == "*" and domain is not None:
        raise PolicyError(f"{where}: 'where' needs one model")
    verb = "can" if "can" in item else "cannot"
    who = ", ".join(logins) if logins else f"{user_type} users"
    text = str(item.get("name") or f"{who} {verb} {operation} {fld or model}")
    return Assertion(
        index, text, logins, user_type, verb == "can", str(operation), model, domain, fld
    )


def verify(env: Environment, assertions: list[Assertion]) -> list[Outcome]:
    outcomes = []
    for assertion in assertions:
        outcome = Outcome(assertion)
        try:
            _check(env, assertion, outcome)
        except BastionError as exc:
            outcome.failures.append(f"could not be checked: {exc}")
        outcomes.append(outcome)
    return outcomes


def _users(env: Environment, assertion: Assertion) -> list[Model]:
    su = env(su=True)
    if assertion.users:
        found = []
        for login in assertion.users:
            user = su["res.users"].search([("login", "=", login)], limit=1)
            if not user:
                raise BastionError(f"no active user with login {login!r}")
            found.append(user)
        return found
    policy = env.registry.security
    group = USER_TYPES[str(assertion.user_type)]
    return [u for u in su["res.users"].search([]) if policy.user_in(su.with_user(u), group)]


def _check(env: Environment, assertion: Assertion, outcome: Outcome) -> None:
    if assertion.user_type is not None and assertion.where is None and assertion.field is None:
        _check_type(env, assertion, outcome)
    for user in _users(env, assertion):
        _check_user(env, assertion, user, outcome)


def _check_type(env: Environment, assertion: Assertion, outcome: Outcome) -> None:
    for cell in access_matrix(env, user_type=assertion.user_type):
        if cell.operation != assertion.operation:
            continue
        if assertion.model not in ("*", cell.model):
            continue
        if cell.allowed != assertion.expect:
            state = "granted" if cell.allowed else "not granted"
            outcome.failures.append(
                f"{assertion.user_type} users: {cell.operation} on {cell.model} is {state} by "
                "the access rights"
            )


def _check_user(env: Environment, assertion: Assertion, user: Model, outcome: Outcome) -> None:
    mine = env.with_user(user)
    login = str(user.login)
    models = sorted(env.registry.specs) if assertion.model == "*" else [assertion.model]
    for model in models:
        spec = env.registry.model_info(model)
        if spec.abstract:
            continue
        if assertion.field is not None:
            fld = spec.fields.get(assertion.field)
            if fld is None:
                raise BastionError(f"{model} has no field {assertion.field!r}")
            visible = bool(mine[model].fields_get([assertion.field]))
            if visible != assertion.expect:
                state = "can" if visible else "cannot"
                outcome.failures.append(f"{login} {state} read {model}.{assertion.field}")
            continue
        allowed = mine[model].has_access(assertion.operation)
        if assertion.where is None:
            if allowed != assertion.expect:
                state = "may" if allowed else "may not"
                outcome.failures.append(f"{login} {state} {assertion.operation} {model}")
            continue
        records = env(su=True)[model].search(assertion.where)
        if not records:
            outcome.failures.append(f"no {model} record matches {assertion.where!r}")
            continue
        wrong = [
            r.id
            for r in records
            if mine[model].browse(r.id).has_access(assertion.operation) != assertion.expect
        ]
        if wrong:
            state = "may not" if assertion.expect else "may"
            outcome.failures.append(
                f"{login} {state} {assertion.operation} {model} records {wrong[:20]}"
                + (f" (and {len(wrong) - 20} more)" if len(wrong) > 20 else "")
            )
