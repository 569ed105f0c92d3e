from odoo import fields, models


class Doc(models.Model):
    _name = "x.doc"

    name = fields.Char()
    locked = fields.Boolean()
    state = fields.Selection([("draft", "Draft"), ("done", "Done")])
    user_id = fields.Many2one("res.users")

    def action_lock(self):
        self.sudo().locked = True

    def action_done(self):
        for doc in self.sudo():
            doc.state = "done"

    def action_assign(self, user_id):
        record = self.sudo()
        record["user_id"] = user_id
