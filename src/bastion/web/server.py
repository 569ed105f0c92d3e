"""The app as uvicorn starts it in each worker process: settings from the environment.

    $ BASTION_DB_URL=postgresql://... BASTION_SECRET_KEY=... \\
      uvicorn --factory bastion.web.server:app_from_environment --workers 4
"""

from __future__ import annotations

from starlette.types import ASGIApp

from bastion.settings import load_settings

from .app import create_app


def app_from_environment() -> ASGIApp:
    return create_app(load_settings())
