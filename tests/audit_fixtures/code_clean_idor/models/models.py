from odoo import api, fields, models


class Doc(models.Model):
    _name = "x.doc"

    name = fields.Char()
    locked = fields.Boolean()
    state = fields.Selection([("draft", "Draft"), ("done", "Done")])
    user_id = fields.Many2one("res.users")

    def action_lock(self):
        self.check_access("write")
        self.sudo().locked = True

    def action_done(self):
        for doc in self:
            doc.state = "done"

    def _assign(self, user_id):
        record = self.sudo()
        record["user_id"] = user_id

    @api.model
    def reset(self):
        values = self.sudo().read(["name"])[0]
        values["name"] = "reset"
        return values
