"""Bastion's exceptions, one tree.

::

    BastionError
     ├── ConstructionError          bad input detected before anything runs
     │    ├── DomainError           a domain term is malformed or does not fit the model
     │    ├── ExpressionError       a rule expression uses something outside the whitelist
     │    └── LoadError             an addon file is malformed (carries file and line)
     └── RuntimeDenial              an operation was refused while running
          ├── AccessError           the user may not do this (HTTP 403; 404 on portal pages)
          ├── MissingError          the record does not exist (HTTP 404)
          └── ValidationError       the data would break an invariant (HTTP 422)

Construction errors name the offending input (term, node, file and line); runtime
denials name the model, operation and record ids, never the data of records the user
cannot read.
"""

from __future__ import annotations

from collections.abc import Sequence


class BastionError(Exception):
    """Root of every error Bastion raises on purpose."""


class ConstructionError(BastionError):
    """Input (a domain, a rule, an addon file) is wrong; nothing has run."""


class DomainError(ConstructionError):
    """A domain is malformed or does not fit its model.

    ``term`` is the offending term as written, when there is one.
    """

    def __init__(self, message: str, *, term: object = None, model: str | None = None) -> None:
        self.reason = message
        self.term = term
        self.model = model
        where = f" in term {term!r}" if term is not None else ""
        on = f" (model {model})" if model else ""
        super().__init__(f"{message}{where}{on}")


class ExpressionError(ConstructionError):
    """A rule or data expression uses a construct outside the whitelist.

    ``node`` names the offending construct, ``line``/``column`` locate it inside the
    expression text (1-based line, 0-based column, as Python's ``ast`` reports them).
    """

    def __init__(
        self,
        message: str,
        *,
        text: str = "",
        node: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.text = text
        self.node = node
        self.line = line
        self.column = column
        where = ""
        if line is not None:
            where = f" at line {line}, column {column}"
        what = f" [{node}]" if node else ""
        super().__init__(f"{message}{what}{where}")


class LoadError(ConstructionError):
    """An addon file could not be loaded; ``path`` and ``line`` say where."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        loc = ""
        if path is not None:
            loc = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{loc}{message}")


class RuntimeDenial(BastionError):
    """An operation was refused while running; nothing was written."""


class AccessError(RuntimeDenial):
    """The current user may not perform ``operation`` on ``model``.

    HTTP status: 403 for APIs and the back office; portal routes answer 404 so that a
    forbidden record cannot be told apart from a missing one.

    ``rules`` names the record rules that failed, ``groups`` the groups that would
    grant the missing access right, ``fields`` the restricted fields involved. The
    message never contains values of records the user cannot read.
    """

    http_status = 403

    def __init__(
        self,
        message: str,
        *,
        model: str,
        operation: str,
        ids: Sequence[int] = (),
        rules: Sequence[str] = (),
        groups: Sequence[str] = (),
        fields: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.operation = operation
        self.ids = tuple(ids)
        self.rules = tuple(rules)
        self.groups = tuple(groups)
        self.fields = tuple(fields)
        super().__init__(message)


class MissingError(RuntimeDenial):
    """Some records do not exist (any more). HTTP status: 404."""

    http_status = 404

    def __init__(self, message: str, *, model: str, ids: Sequence[int] = ()) -> None:
        self.model = model
        self.ids = tuple(ids)
        super().__init__(message)


class ValidationError(RuntimeDenial):
    """The change would break an invariant (a cycle, a user type mix, a required
    field left empty). HTTP status: 422."""

    http_status = 422
