"""Built-in addons, each a folder in Odoo's shape (``__manifest__.py``, ``models.py``,
``security/``, ``data/``)."""
