from bastion import Model, fields


class SaleOrder(Model):
    _name = "sale.order"
    _description = "Sales Order"
    _order = "name desc, id"

    name = fields.Char(required=True)
    partner_id = fields.Many2one("res.partner", required=True, index=True)
    company_id = fields.Many2one("res.company", index=True)
    state = fields.Selection([("draft", "Quotation"), ("sale", "Sales Order")], default="draft")
    amount_total = fields.Float()
    margin = fields.Float(groups="doc_sale.group_sale_manager")
