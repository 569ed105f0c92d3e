"""Sales: a product catalogue, quotations and sales orders.

>>> order = env["sale.order"].create({"partner_id": customer.id, "order_line": [
...     Command.create({"product_id": desk.id, "product_uom_qty": 2})]})  # doctest: +SKIP
>>> order.name, order.amount_total                                      # doctest: +SKIP
('S00001', 1100.0)

The amounts of an order and the subtotal of a line are stored and kept in step with
the lines whenever a line is created, changed or deleted; callers never write them.
The customer follows each new order, as in Odoo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bastion.orm import Model, fields
from bastion.orm.defaults import as_batch, current_company, next_names, now, refuse_computed

# One flat rate: the demo has no tax engine.
TAX_RATE = 0.10
ORDER_COMPUTED = ("amount_untaxed", "amount_tax", "amount_total", "margin")
LINE_COMPUTED = ("price_subtotal",)
NEW_NAME = "New"


class ProductProduct(Model):
    _name = "product.product"
    _description = "Product"
    _order = "default_code, name, id"

    name = fields.Char(required=True, index=True)
    default_code = fields.Char(string="Internal Reference", index=True)
    list_price = fields.Float(string="Sales Price")
    standard_price = fields.Float(string="Cost", groups="sale.group_sale_manager")
    active = fields.Boolean(default=True)
    description_sale = fields.Text(string="Sales Description")


class SaleOrder(Model):
    _name = "sale.order"
    _inherit = ["mail.thread"]
    _share_includes = ("order_line",)
    _description = "Sales Order"
    _order = "date_order desc, id desc"

    name = fields.Char(string="Order Reference", required=True, default=NEW_NAME, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True)
    user_id = fields.Many2one("res.users", string="Salesperson", index=True)
    company_id = fields.Many2one("res.company", index=True, default=current_company)
    date_order = fields.Datetime(string="Order Date", required=True, default=now)
    validity_date = fields.Date(string="Expiration")
    state = fields.Selection(
        [
            ("draft", "Quotation"),
            ("sent", "Quotation Sent"),
            ("sale", "Sales Order"),
            ("cancel", "Cancelled"),
        ],
        string="Status",
        default="draft",
        index=True,
    )
    order_line = fields.One2many("sale.order.line", "order_id", string="Order Lines")
    note = fields.Text(string="Terms and conditions", help="Shown to the customer.")
    client_order_ref = fields.Char(string="Customer Reference")
    amount_untaxed = fields.Float(string="Untaxed Amount", readonly=True)
    amount_tax = fields.Float(string="Taxes", readonly=True)
    amount_total = fields.Float(string="Total", readonly=True)
    margin = fields.Float(readonly=True, groups="sale.group_sale_manager")
    internal_note = fields.Text(groups="sale.group_sale_salesman")

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        batch = as_batch(vals_list)
        unnamed = [vals for vals in batch if vals.get("name") in (None, False, NEW_NAME)]
        for vals in batch:
            refuse_computed(self._name, vals, ORDER_COMPUTED)
        # As Odoo's order sequence: gaps allowed, so that numbering one customer's
        # orders never waits for another's transaction (bastion.orm.numbering).
        names = next_names(self, "S", len(unnamed), gaps=True)
        for vals, name in zip(unnamed, names, strict=True):
            vals["name"] = name
        orders = super().create(batch)
        orders.sudo()._subscribe_customers()
        return orders

    def write(self, vals: Mapping[str, object]) -> bool:
        refuse_computed(self._name, vals, ORDER_COMPUTED)
        return super().write(vals)

    def _subscribe_customers(self) -> None:
        """The customer follows its orders (one write per customer, not per order)."""
        by_partner: dict[int, list[int]] = {}
        for order in self:
            by_partner.setdefault(int(order.partner_id.id), []).append(int(order.id))
        for partner_id, order_ids in by_partner.items():
            self.browse(order_ids).message_subscribe([partner_id])

    def _recompute_amounts(self) -> None:
        """Stored compute: untaxed, tax, total and margin from the lines."""
        for order in self:
            lines = order.order_line
            untaxed = round(sum(line.price_subtotal for line in lines), 2)
            margin = sum(
                line.product_uom_qty * (line.price_unit - line.purchase_price) for line in lines
            )
            tax = round(untaxed * TAX_RATE, 2)
            values = {
                "amount_untaxed": untaxed,
                "amount_tax": tax,
                "amount_total": round(untaxed + tax, 2),
                "margin": round(margin, 2),
            }
            if any(order[name] != value for name, value in values.items()):
                # Model.write: the override above refuses computed fields to callers.
                Model.write(order, values)


class SaleOrderLine(Model):
    _name = "sale.order.line"
    _description = "Sales Order Line"
    _order = "order_id, sequence, id"
    _rec_name = "name"

    order_id = fields.Many2one(
        "sale.order", string="Order", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one("product.product", string="Product", index=True)
    name = fields.Text(string="Description", required=True)
    product_uom_qty = fields.Float(string="Quantity", default=1.0)
    price_unit = fields.Float(string="Unit Price")
    price_subtotal = fields.Float(string="Subtotal", readonly=True)
    purchase_price = fields.Float(string="Cost", groups="sale.group_sale_manager")

    def create(self, vals_list: Mapping[str, object] | Sequence[Mapping[str, object]]) -> Any:
        batch = as_batch(vals_list)
        products = self.env["product.product"].sudo()
        for vals in batch:
            refuse_computed(self._name, vals, LINE_COMPUTED)
            chosen = vals.get("product_id")
            product_id = chosen.id if isinstance(chosen, Model) else chosen
            product = products.browse(product_id) if isinstance(product_id, int) else None
            if product is not None:
                # What Odoo's onchange fills in: the description and the sales price.
                vals.setdefault("name", product.name)
                vals.setdefault("price_unit", product.list_price)
            quantity = vals.get("product_uom_qty", 1.0)
            price = vals.get("price_unit") or 0.0
            if isinstance(quantity, int | float) and isinstance(price, int | float):
                vals["price_subtotal"] = round(quantity * price, 2)
        lines = super().create(batch)
        costless = [
            (line, line.product_id)
            for line, vals in zip(lines.sudo(), batch, strict=True)
            if "purchase_price" not in vals and line.product_id
        ]
        for line, product in costless:
            # The cost is hidden from salesmen: copied from the product as superuser.
            Model.write(line, {"purchase_price": product.standard_price})
        lines.sudo().mapped("order_id")._recompute_amounts()
        return lines

    def write(self, vals: Mapping[str, object]) -> bool:
        refuse_computed(self._name, vals, LINE_COMPUTED)
        before = self.sudo().mapped("order_id")
        super().write(vals)
        lines = self.sudo()
        if "product_uom_qty" in vals or "price_unit" in vals:
            for line in lines:
                subtotal = round(line.product_uom_qty * line.price_unit, 2)
                Model.write(line, {"price_subtotal": subtotal})
        if {"product_uom_qty", "price_unit", "purchase_price", "order_id"} & set(vals):
            (before | lines.mapped("order_id"))._recompute_amounts()
        return True

    def unlink(self) -> bool:
        orders = self.sudo().mapped("order_id")
        super().unlink()
        orders.exists()._recompute_amounts()
        return True
