"""Models of the kernel's tests: every field type, a hierarchy, every relation kind."""

from bastion import Model, fields


class Category(Model):
    _name = "test.category"
    _description = "Category"
    _parent_name = "parent_id"
    name = fields.Char(required=True)
    parent_id = fields.Many2one("test.category", ondelete="cascade")
    child_ids = fields.One2many("test.category", "parent_id")


class Tag(Model):
    _name = "test.tag"
    _description = "Tag"
    name = fields.Char(required=True)
    color = fields.Integer()


class Item(Model):
    _name = "test.item"
    _description = "Item"
    _order = "name, id"
    name = fields.Char()
    notes = fields.Text()
    body = fields.Html()
    quantity = fields.Integer()
    price = fields.Float()
    active = fields.Boolean(default=True)
    flag = fields.Boolean()
    day = fields.Date()
    moment = fields.Datetime()
    state = fields.Selection([("draft", "Draft"), ("done", "Done"), ("cancel", "Cancelled")])
    category_id = fields.Many2one("test.category", index=True)
    partner_id = fields.Many2one("res.partner", index=True)
    company_id = fields.Many2one("res.company", index=True)
    tag_ids = fields.Many2many("test.tag")
    line_ids = fields.One2many("test.line", "item_id")
    secret = fields.Char(groups="base.group_system")
    cost = fields.Float(groups="base.group_erp_manager,!base.group_portal")


class Line(Model):
    _name = "test.line"
    _description = "Item line"
    item_id = fields.Many2one("test.item", required=True, ondelete="cascade", index=True)
    label = fields.Char()
    amount = fields.Integer()
    tag_id = fields.Many2one("test.tag")
