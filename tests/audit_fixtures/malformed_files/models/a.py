from odoo import models

class A(models.Model:
    _name = "x.a"
