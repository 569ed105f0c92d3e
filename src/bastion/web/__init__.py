"""The web layer: portal, back office, admin (FastAPI)."""
