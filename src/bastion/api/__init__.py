"""The external API: Odoo-compatible XML-RPC/JSON-RPC and a REST API."""
