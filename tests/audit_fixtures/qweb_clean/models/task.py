from odoo import fields, models


class Task(models.Model):
    _name = "x.task"

    name = fields.Char()
    internal_cost = fields.Float(groups="base.group_user")
    secret_note = fields.Text(groups="x.group_manager,base.group_system")
    shared_note = fields.Text(groups="base.group_user,base.group_portal")
    margin = fields.Float()
