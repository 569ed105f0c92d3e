"""Odoo-format addons: ``__manifest__.py``, ``ir.model.access.csv``-style CSV files and
security XML, loaded without executing anything but the addon's ``models.py``."""

from .csv import load_csv
from .files import load_data_file
from .manifest import Manifest, read_manifest
from .xml import load_xml

__all__ = ["Manifest", "load_csv", "load_data_file", "load_xml", "read_manifest"]
