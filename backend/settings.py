"""Settings from ``OWNERDESK_*`` environment variables (DESIGN.md, "Environment")."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"  # noqa: S105  (a file name, not a secret)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OWNERDESK_", extra="ignore")

    var_dir: Path = Path("./var")
    database_url: str = "sqlite+aiosqlite:///./var/ownerdesk.db"
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = Field(default="", repr=False)
    timezone: str = "Asia/Shanghai"

    telegram_token: str | None = Field(default=None, repr=False)
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = Field(default=None, repr=False)
    # Messages a second to Telegram (its limit is about 30); raised only against a fake.
    telegram_rate: float = Field(default=30.0, gt=0)
    # Staff group chat for the daily/monthly reports and group-complaint alerts (docs/alerts.md).
    telegram_staff_chat: str | None = None

    wechat_appid: str | None = None
    wechat_secret: str | None = Field(default=None, repr=False)
    wechat_token: str | None = Field(default=None, repr=False)
    wechat_aes_key: str | None = Field(default=None, repr=False)
    wechat_api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"

    # Seconds a web-chat message may wait for the desk before it is turned away with 503
    # (the page sends it again); 0 takes every message however long the queue.
    webchat_max_wait: float = Field(default=2.0, ge=0)

    # Verification codes by SMS (backend/sms.py); unset = the code goes to the service log.
    sms_webhook_url: str | None = None
    sms_webhook_secret: str | None = Field(default=None, repr=False)

    # Set behind HTTPS so the console's session cookie is never sent in clear.
    secure_cookies: bool = False

    # Off in tests that drive jobs with a controlled clock.
    run_scheduler: bool = True
    run_delivery: bool = True

    @model_validator(mode="after")
    def _ensure_secret(self) -> Settings:
        if not self.secret_key:
            self.secret_key = load_or_create_secret(self.var_dir)
        return self

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def wechat_enabled(self) -> bool:
        return bool(self.wechat_appid and self.wechat_secret and self.wechat_token)


def load_or_create_secret(var_dir: Path) -> str:
    """Keep one random key per installation so sessions survive restarts."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / SECRET_KEY_FILE
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
