"""What the customer portal shows of each app's documents: declarations, no logic.

>>> DOCUMENTS["orders"].model
'sale.order'

Only fields a customer may read are named here (never ``margin``, costs or internal
notes); the data layer would refuse the others anyway, so a mistake here is an error
page, not a leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    # how to show the value: text, money, date, selection, many2one, html
    kind: str = "text"


@dataclass(frozen=True)
class Lines:
    """A one2many shown as a table on the document's page (order lines, tasks)."""

    title: str
    model: str
    inverse: str
    columns: tuple[Column, ...]
    order: str = "id"
    link: str | None = None  # slug of the portal document the rows open, if any


@dataclass(frozen=True)
class PortalDocument:
    slug: str
    model: str
    title: str
    singular: str
    columns: tuple[Column, ...]
    details: tuple[Column, ...]
    search: tuple[str, ...]
    sorts: dict[str, tuple[str, str]]
    domain: tuple[object, ...] = ()
    lines: Lines | None = None
    body: str | None = None  # an Html field shown as the document's text
    messages: bool = True
    can_post: bool = False
    printable: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> list[str]:
        names = [c.field for c in (*self.columns, *self.details)]
        if self.body:
            names.append(self.body)
        return list(dict.fromkeys(names))


_AMOUNTS = (
    Column("amount_untaxed", "Untaxed", "money"),
    Column("amount_tax", "Taxes", "money"),
    Column("amount_total", "Total", "money"),
)

DOCUMENTS: dict[str, PortalDocument] = {
    doc.slug: doc
    for doc in (
        PortalDocument(
            slug="orders",
            model="sale.order",
            title="Sales Orders",
            singular="Sales Order",
            columns=(
                Column("name", "Order"),
                Column("date_order", "Date", "date"),
                Column("state", "Status", "selection"),
                Column("amount_total", "Total", "money"),
            ),
            details=(
                Column("partner_id", "Customer", "many2one"),
                Column("client_order_ref", "Your reference"),
                Column("validity_date", "Valid until", "date"),
                *_AMOUNTS,
                Column("note", "Terms"),
            ),
            search=("name", "client_order_ref"),
            sorts={
                "date": ("Newest", "date_order desc"),
                "name": ("Reference", "name"),
                "state": ("Status", "state"),
                "total": ("Total", "amount_total desc"),
            },
            lines=Lines(
                "Lines",
                "sale.order.line",
                "order_id",
                (
                    Column("name", "Description"),
                    Column("product_uom_qty", "Quantity", "money"),
                    Column("price_unit", "Unit price", "money"),
                    Column("price_subtotal", "Amount", "money"),
                ),
                order="sequence, id",
            ),
            printable=True,
        ),
        PortalDocument(
            slug="invoices",
            model="account.move",
            title="Invoices",
            singular="Invoice",
            columns=(
                Column("name", "Invoice"),
                Column("invoice_date", "Date", "date"),
                Column("invoice_date_due", "Due", "date"),
                Column("payment_state", "Payment", "selection"),
                Column("amount_total", "Total", "money"),
            ),
            details=(
                Column("partner_id", "Customer", "many2one"),
                Column("move_type", "Type", "selection"),
                Column("invoice_origin", "Source"),
                Column("state", "Status", "selection"),
                *_AMOUNTS,
                Column("amount_residual", "Amount due", "money"),
            ),
            search=("name", "invoice_origin"),
            sorts={
                "date": ("Newest", "invoice_date desc"),
                "due": ("Due date", "invoice_date_due"),
                "name": ("Reference", "name"),
                "total": ("Total", "amount_total desc"),
            },
            domain=(("move_type", "in", ["out_invoice", "out_refund", "in_invoice", "in_refund"]),),
            lines=Lines(
                "Lines",
                "account.move.line",
                "move_id",
                (
                    Column("name", "Description"),
                    Column("quantity", "Quantity", "money"),
                    Column("price_unit", "Unit price", "money"),
                    Column("price_subtotal", "Amount", "money"),
                ),
            ),
            printable=True,
        ),
        PortalDocument(
            slug="projects",
            model="project.project",
            title="Projects",
            singular="Project",
            columns=(Column("name", "Project"), Column("partner_id", "Customer", "many2one")),
            details=(Column("partner_id", "Customer", "many2one"),),
            search=("name",),
            sorts={"name": ("Name", "name")},
            lines=Lines(
                "Tasks",
                "project.task",
                "project_id",
                (
                    Column("name", "Task"),
                    Column("stage", "Stage", "selection"),
                    Column("date_deadline", "Deadline", "date"),
                ),
                order="sequence, id",
                link="tasks",
            ),
            body="description",
        ),
        PortalDocument(
            slug="tasks",
            model="project.task",
            title="Tasks",
            singular="Task",
            columns=(
                Column("name", "Task"),
                Column("project_id", "Project", "many2one"),
                Column("stage", "Stage", "selection"),
                Column("date_deadline", "Deadline", "date"),
            ),
            details=(
                Column("project_id", "Project", "many2one"),
                Column("stage", "Stage", "selection"),
                Column("date_deadline", "Deadline", "date"),
            ),
            search=("name",),
            sorts={
                "name": ("Name", "name"),
                "deadline": ("Deadline", "date_deadline"),
                "stage": ("Stage", "stage"),
            },
            body="description",
            can_post=True,
        ),
        PortalDocument(
            slug="tickets",
            model="helpdesk.ticket",
            title="Tickets",
            singular="Ticket",
            columns=(
                Column("number", "Number"),
                Column("name", "Subject"),
                Column("stage", "Stage", "selection"),
                Column("date_open", "Opened", "date"),
            ),
            details=(
                Column("number", "Number"),
                Column("stage", "Stage", "selection"),
                Column("priority", "Priority", "selection"),
                Column("date_open", "Opened", "date"),
            ),
            search=("name", "number"),
            sorts={
                "date": ("Newest", "date_open desc"),
                "stage": ("Stage", "stage"),
                "name": ("Subject", "name"),
            },
            body="description",
            can_post=True,
        ),
    )
}
