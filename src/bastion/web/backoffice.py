"""The back office for internal users: list and form pages generated from the fields.

    GET  /odoo                              the models the user may read, by addon
    GET  /odoo/{model}?page=&order=&search= a list (40 a page)
    GET  /odoo/{model}/new                  an empty form (needs create access)
    POST /odoo/{model}/new                  create a record
    GET  /odoo/{model}/{id}                 a record's form
    POST /odoo/{model}/{id}                 save it
    POST /odoo/{model}/{id}/delete          delete it

Only members of ``base.group_user`` get in; anyone else (portal users) gets the 404
page. Pages are described by ``fields_get`` in the user's own environment, so fields
restricted by ``groups=`` never reach the HTML, and every read and write goes through
``v.env``: access rights, record rules and field groups are the data layer's answer,
never decided here. Model and field names from the request are looked up in the
registry's maps (``specs``, ``fields_get``), never used as attributes. Templates get
plain strings and :class:`FieldView` values, never recordsets.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from bastion.domain.schema import INT_MAX
from bastion.errors import AccessError, MissingError, ValidationError
from bastion.orm import Model
from bastion.orm.fields import NOT_SET
from bastion.orm.schema import ModelSpec

from .backoffice_fields import (
    LIST_TYPES,
    SORTABLE_TYPES,
    X2MANY,
    FieldInfo,
    InputError,
    cell_text,
    comparable,
    describe,
    field_view,
    parse_input,
    readable_linked,
)
from .context import NotFound, Visit, visit
from .csrf import FIELD_NAME, CsrfError

router = APIRouter()

PAGE_SIZE = 40
LIST_COLUMNS = 6
MAX_SEARCH = 100
TECHNICAL_PREFIX = "ir."  # reachable by URL for those with the rights, not listed


# -- who and what ------------------------------------------------------------------------
async def posted_form(request: Request) -> FormData:
    """The submitted form, whatever its field names: :func:`parse_form` decides."""
    return await request.form()


Posted = Annotated[FormData, Depends(posted_form)]


def enter(v: Visit) -> None:
    """Logged in and internal; anyone else is told the page does not exist."""
    v.require_login()
    if not v.in_groups("base.group_user"):
        raise NotFound


def model_spec(v: Visit, model: str) -> ModelSpec:
    spec = v.app.registry.specs.get(model)
    if spec is None or spec.abstract:
        raise NotFound
    return spec


def find_record(v: Visit, model: str, record_id: int) -> Model:
    """The record if it exists and the user may read it (archived or not); NotFound
    otherwise, the same answer for both."""
    if not 0 < record_id <= INT_MAX:
        raise NotFound
    found = readable_linked(v.env, model, [record_id])
    if not found:
        raise NotFound
    return found


# -- the apps menu and lists ----------------------------------------------------------------
@router.get("/odoo")
def backoffice_home(request: Request) -> Response:
    with visit(request) as v:
        enter(v)
        registry = v.app.registry
        apps: dict[str, list[ModelSpec]] = {}
        for name, spec in sorted(registry.specs.items()):
            if spec.abstract or name.startswith(TECHNICAL_PREFIX):
                continue
            if v.env[name].has_access("read"):
                apps.setdefault(spec.module, []).append(spec)
        menu = [(module, registry.manifest(module).title, specs) for module, specs in apps.items()]
        return v.render("backoffice/home.html", apps=sorted(menu, key=lambda app: app[1]))


def list_columns(spec: ModelSpec, fields: dict[str, FieldInfo]) -> list[FieldInfo]:
    """The first stored scalar fields and many2ones, the record's name first."""
    listed = [f for f in fields.values() if f.name != "id" and f.store and f.type in LIST_TYPES]
    listed.sort(key=lambda f: f.name != spec.rec_name)  # stable: declaration order kept
    return listed[:LIST_COLUMNS]


def list_order(order: str, columns: list[FieldInfo]) -> tuple[str, str] | None:
    """``"name"`` or ``"name desc"``, checked against the listed columns; else None."""
    parts = order.split()
    if not 1 <= len(parts) <= 2:
        return None
    direction = parts[1].lower() if len(parts) == 2 else "asc"
    sortable = {c.name for c in columns if c.type in SORTABLE_TYPES}
    if parts[0] not in sortable or direction not in ("asc", "desc"):
        return None
    return parts[0], direction


@router.get("/odoo/{model}")
def record_list(
    request: Request, model: str, page: int = 1, order: str = "", search: str = ""
) -> Response:
    with visit(request) as v:
        enter(v)
        spec = model_spec(v, model)
        records = v.env[model]
        records.check_access("read")  # AccessError: the 403 page
        fields = describe(records)
        columns = list_columns(spec, fields)
        name_field = fields.get(spec.rec_name)
        searchable = name_field is not None and name_field.type in ("char", "text")
        search = search.strip()[:MAX_SEARCH] if searchable else ""
        domain = [(spec.rec_name, "ilike", search)] if search else []
        sort = list_order(order, columns)
        total = records.search_count(domain)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(max(page, 1), pages)
        rows = records.search_read(
            domain,
            ["id", *(c.name for c in columns)],
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            order=" ".join(sort) if sort else None,
        )
        return v.render(
            "backoffice/list.html",
            spec=spec,
            columns=columns,
            sortable=SORTABLE_TYPES,
            rows=[(row["id"], [cell_text(c, row[c.name]) for c in columns]) for row in rows],
            total=total,
            page=page,
            pages=pages,
            sort=sort,
            search=search,
            searchable=searchable,
            can_create=records.has_access("create"),
        )


# -- forms -------------------------------------------------------------------------------
def form_page(
    v: Visit,
    spec: ModelSpec,
    record: Model | None,
    *,
    typed: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    """The form of ``record`` (of a new record when None), refilled with ``typed``."""
    records = record if record is not None else v.env[spec.model_name]
    fields = {n: f for n, f in describe(records).items() if n != "id" and f.store}
    # An x2many whose comodel the user may not read cannot be read at all.
    readable = [
        f.name
        for f in fields.values()
        if f.type not in X2MANY or (f.relation and v.env[f.relation].has_access("read"))
    ]
    if record is not None:
        row = record.read(readable)[0]
        can_write, can_unlink = record.has_access("write"), record.has_access("unlink")
    else:
        row = new_values(spec, fields)
        can_write, can_unlink = True, False
    views = [
        field_view(
            v.env,
            info,
            row.get(name, False),
            readable=name in readable,
            editable=can_write and info.editable,
            typed=(typed or {}).get(name),
        )
        for name, info in fields.items()
    ]
    views.sort(key=lambda view: view.info.type in X2MANY)  # lists of links last
    title = row.get(spec.rec_name) if record is not None else None
    return v.render(
        "backoffice/form.html",
        status,
        spec=spec,
        record_id=record.id if record is not None else None,
        title=title if isinstance(title, str) and title else None,
        views=views,
        can_write=can_write,
        can_unlink=can_unlink,
        errors=errors or [],
    )


def new_values(spec: ModelSpec, fields: dict[str, FieldInfo]) -> dict[str, object]:
    """Plain defaults for a new record's form (computed ones apply on create)."""
    values: dict[str, object] = {}
    for name in fields:
        default = spec.fields[name].default
        if default is not NOT_SET and not callable(default):
            values[name] = default
    return values


def typed_values(form: FormData) -> dict[str, str]:
    """What was typed, to refill a refused form: the last text of each field."""
    typed: dict[str, str] = {}
    for key in form:
        texts = [value for value in form.getlist(key) if isinstance(value, str)]
        if key != FIELD_NAME and texts:
            typed[key] = texts[-1]
    return typed


def parse_form(
    spec: ModelSpec, fields: dict[str, FieldInfo], form: FormData, *, creating: bool
) -> tuple[dict[str, object], list[str], int]:
    """Values for create/write from a submitted form: (vals, errors, HTTP status).

    Only editable fields of the user's ``fields_get`` are taken; any other name is
    refused with a message naming it. When creating, empty inputs are left out so
    that the model's defaults apply."""
    vals: dict[str, object] = {}
    errors: list[str] = []
    status = 400
    for key in dict.fromkeys(form.keys()):
        if key == FIELD_NAME:
            continue
        info = fields.get(key)
        if info is None:
            if key in spec.fields:
                errors.append(f"You may not change the field '{key}': it is restricted.")
                status = 403
            else:
                errors.append(f"{spec.model_name} has no field {key[:60]!r}.")
            continue
        if not info.editable:
            errors.append(f"{info.label} ({key}) cannot be changed here.")
            continue
        given = form.getlist(key)
        if not all(isinstance(value, str) for value in given):
            errors.append(f"{info.label} ({key}): expected text, not a file.")
            continue
        try:
            value = parse_input(info, str(given[-1]))  # a checkbox comes after its hidden "0"
        except InputError as exc:
            errors.append(f"{info.label} ({key}): {exc}.")
            continue
        if not (creating and value is False and info.type != "boolean"):
            vals[key] = value
    return vals, errors, status


def refusal(exc: AccessError | ValidationError | MissingError) -> tuple[list[str], int]:
    """The data layer's refusal as the form's error and status."""
    return [str(exc)], 403 if isinstance(exc, AccessError) else 422


def csrf_refused(v: Visit, form: FormData) -> list[str] | None:
    token = form.get(FIELD_NAME)
    try:
        v.check_csrf(token if isinstance(token, str) else None)
    except CsrfError as exc:
        return [str(exc)]
    return None


@router.get("/odoo/{model}/new")
def new_form(request: Request, model: str) -> Response:
    with visit(request) as v:
        enter(v)
        spec = model_spec(v, model)
        v.env[model].check_access("create")  # AccessError: the 403 page
        return form_page(v, spec, None)


@router.post("/odoo/{model}/new")
def create_record(request: Request, model: str, form: Posted) -> Response:
    with visit(request) as v:
        enter(v)
        spec = model_spec(v, model)
        records = v.env[model]
        records.check_access("create")
        typed = typed_values(form)
        if errors := csrf_refused(v, form):
            return form_page(v, spec, None, typed=typed, errors=errors, status=403)
        vals, errors, status = parse_form(spec, describe(records), form, creating=True)
        if errors:
            return form_page(v, spec, None, typed=typed, errors=errors, status=status)
        try:
            with v.env.savepoint():
                created = records.create(vals)
        except (AccessError, ValidationError, MissingError) as exc:
            errors, status = refusal(exc)
            return form_page(v, spec, None, typed=typed, errors=errors, status=status)
        return v.redirect(f"/odoo/{model}/{created.id}")


@router.get("/odoo/{model}/{record_id}")
def record_form(request: Request, model: str, record_id: int) -> Response:
    with visit(request) as v:
        enter(v)
        spec = model_spec(v, model)
        return form_page(v, spec, find_record(v, model, record_id))


@router.post("/odoo/{model}/{record_id}")
def save_record(request: Request, model: str, record_id: int, form: Posted) -> Response:
    with visit(request) as v:
        enter(v)
        spec = model_spec(v, model)
        record = find_record(v, model, record_id)
        typed = typed_values(form)
        if errors := csrf_refused(v, form):
            return form_page(v, spec, record, typed=typed, errors=errors, status=403)
        fields = describe(record)
        vals, errors, status = parse_form(spec, fields, form, creating=False)
        if errors:
            return form_page(v, spec, record, typed=typed, errors=errors, status=status)
        # Only what changed is written: an untouched form writes nothing.
        current = record.read(list(vals))[0] if vals else {}
        changes = {k: x for k, x in vals.items() if x != comparable(fields[k], current[k])}
        try:
            with v.env.savepoint():
                if changes:
                    record.write(changes)
                else:
                    record.check_access("write")
        except (AccessError, ValidationError, MissingError) as exc:
            errors, status = refusal(exc)
            return form_page(v, spec, record, typed=typed, errors=errors, status=status)
        return v.redirect(f"/odoo/{model}/{record_id}")


@router.post("/odoo/{model}/{record_id}/delete")
def delete_record(request: Request, model: str, record_id: int, form: Posted) -> Response:
    with visit(request) as v:
        enter(v)
        spec = model_spec(v, model)
        record = find_record(v, model, record_id)
        if errors := csrf_refused(v, form):
            return form_page(v, spec, record, errors=errors, status=403)
        try:
            with v.env.savepoint():
                record.unlink()
        except (AccessError, ValidationError) as exc:
            errors, status = refusal(exc)
            return form_page(v, spec, record, errors=errors, status=status)
        return v.redirect(f"/odoo/{model}")
