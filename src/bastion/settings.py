"""Settings of a Bastion server, from ``BASTION_*`` environment variables or a TOML file.

>>> settings = Settings(db_url="sqlite:///var/demo.db", secret_key="x" * 32)
>>> settings.session_idle_minutes
120

Precedence, highest first: arguments, environment variables (``BASTION_DB_URL``,
``BASTION_SECRET_KEY``, ``BASTION_REDIS_URL``...), the TOML file named by
``BASTION_CONFIG`` (keys without the prefix: ``db_url = "..."``), the defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import limits
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bastion.memo import MIN_MEMO_ENTRIES

MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BASTION_", extra="forbid")

    db_url: str = "sqlite:///var/bastion.db"
    # Signs CSRF and login tokens. Required: a server never runs with a default key.
    secret_key: SecretStr
    addons_path: list[Path] = Field(default_factory=list)
    # Shared login throttling across worker processes; in memory when unset.
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8069
    # None: the Secure cookie flag (and HSTS) follow the request's scheme (https
    # behind a TLS proxy with proxy headers on); True/False force it.
    cookie_secure: bool | None = None
    session_idle_minutes: int = Field(default=120, ge=1)
    session_absolute_hours: int = Field(default=24, ge=1)
    # Step-up: sensitive changes ask for the password again after this long.
    stepup_minutes: int = Field(default=10, ge=1)
    # Groups (XML ids) whose members must enrol in two-factor authentication.
    require_2fa_groups: list[str] = Field(default_factory=list)
    page_size: int = Field(default=20, ge=1, le=200)
    # The database name RPC clients pass (Odoo's "db" argument); one per server.
    db_name: str = "bastion"
    # Requests per API key (REST), in the notation of the limits library.
    api_rate_limit: str = "600 per 1 minute"
    # Entries each worker keeps per security version of its users' groups, access
    # answers and rules (about fifteen per portal user): raise it for more than a few
    # thousand active users per worker. None: the kernel's default, 65,536.
    memo_entries: int | None = Field(default=None, ge=MIN_MEMO_ENTRIES)

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters (generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("api_rate_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            limits.parse_many(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate such as '600 per 1 minute' or '10/second'"
            ) from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("BASTION_CONFIG")
        if config:
            path = Path(config)
            if not path.is_file():
                raise FileNotFoundError(f"BASTION_CONFIG names {config!r}, which is not a file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and the TOML file, with ``overrides`` on top."""
    return Settings(**overrides)
