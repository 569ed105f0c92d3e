"""Security audits. ``bastion.audit.odoo`` audits Odoo addon trees statically.

>>> from bastion.audit.odoo import audit_odoo                      # doctest: +SKIP
"""
