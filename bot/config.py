"""Settings, read from the environment once and validated at start-up.

A bad value stops the process with a message naming the variable, instead of
failing later inside a webhook where nobody is watching.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SUPPORTED_LOCALES = ("th", "en")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LINE_API_DEFAULT = "https://api.line.me"
LINE_LOGIN_METADATA = "https://access.line.me/.well-known/openid-configuration"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    channel_secret: str
    channel_access_token: str
    line_api_base_url: str
    database_url: str
    timezone: ZoneInfo
    default_locale: str
    instance_path: Path
    quiet_start: time
    quiet_end: time
    # Operations (docs/OPERATIONS.md): log lines as text or JSON; the Bearer token that /metrics
    # asks for (empty: /metrics answers 404); where photos are kept (empty: instance/media).
    log_format: str = "text"
    log_level: str = "INFO"
    metrics_token: str = ""
    media_storage_url: str = ""
    media_s3_endpoint_url: str = ""
    # The web console (bot/console): where people reach this app (sign-in links in chat point
    # there), the key that signs its cookies, and the LINE Login channel, if there is one.
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    login_channel_id: str = ""
    login_channel_secret: str = ""
    login_metadata_url: str = LINE_LOGIN_METADATA

    @property
    def has_login(self) -> bool:
        """True when a LINE Login channel is configured: the console offers "Sign in with LINE"."""
        return bool(self.login_channel_id and self.login_channel_secret)

    @property
    def public_https(self) -> bool:
        """True when people (and LINE) reach this app over HTTPS: only then are there links LINE
        fetches itself (the weekly digest's chart image); LINE fetches images over HTTPS only."""
        return self.public_url.startswith("https://") and len(self.public_url) > len("https://")

    @property
    def has_channel(self) -> bool:
        """False when no LINE channel is configured: `khabuan serve` then runs the local emulator."""
        return bool(self.channel_secret)

    @property
    def media_dir(self) -> Path:
        return self.instance_path / "media"


def _parse_clock(name: str, value: str) -> time:
    try:
        hours, minutes = value.split(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(value)
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{name} must look like 21:00, got {value!r}") from None


# Values of BOT_QUIET_HOURS that mean "no quiet hours" (any case); so does an empty value.
QUIET_HOURS_OFF = ("off", "none")


def _parse_quiet_hours(value: str) -> tuple[time, time]:
    """`21:00-07:00`, or `off`: no quiet hours (kept as an empty window, start == end)."""
    value = value.strip()
    if not value or value.lower() in QUIET_HOURS_OFF:
        return time(0, 0), time(0, 0)
    try:
        start, end = value.split("-")
        return _parse_clock("BOT_QUIET_HOURS", start.strip()), _parse_clock("BOT_QUIET_HOURS", end.strip())
    except (ValueError, ConfigError):
        raise ConfigError(f"BOT_QUIET_HOURS must look like 21:00-07:00, or be off, got {value!r}") from None


def load_settings(environ: dict[str, str] | None = None, instance_path: Path | None = None) -> Settings:
    """Settings from `environ` (default: the process environment).

    The instance folder (database, photos, simulator personas) is `KHABUAN_INSTANCE_PATH`, else
    `instance_path`, else `./instance` of the folder the command runs in, never a place inside
    the installed package. It is made absolute here, so a later change of directory cannot move it.
    """
    env = dict(os.environ if environ is None else environ)
    instance = Path(env.get("KHABUAN_INSTANCE_PATH") or instance_path or Path.cwd() / "instance").absolute()

    tz_name = env.get("BOT_TIMEZONE", "Asia/Bangkok")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"BOT_TIMEZONE={tz_name!r} is not a known time zone (try Asia/Bangkok)") from None

    locale = env.get("BOT_DEFAULT_LOCALE", "th")
    if locale not in SUPPORTED_LOCALES:
        raise ConfigError(f"BOT_DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}, got {locale!r}")

    base_url = env.get("LINE_API_BASE_URL", LINE_API_DEFAULT).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"LINE_API_BASE_URL must be an http(s) URL, got {base_url!r}")

    db_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'khabuan.sqlite3'}"
    # Heroku-style URLs say postgres://; SQLAlchemy wants a driver name.
    if db_url.startswith("postgres://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgres://"):]
    elif db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    try:
        make_url(db_url)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is not a database URL: {db_url!r}") from None

    secret = env.get("LINE_CHANNEL_SECRET", "")
    token = env.get("LINE_CHANNEL_ACCESS_TOKEN", "")
    if bool(secret) != bool(token):
        raise ConfigError("Set both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN, or neither")

    quiet_start, quiet_end = _parse_quiet_hours(env.get("BOT_QUIET_HOURS", "21:00-07:00"))

    log_format = env.get("LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    log_level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    media_url = env.get("MEDIA_STORAGE_URL", "").strip()
    if media_url and not (media_url.startswith("s3://") and media_url[len("s3://"):].split("/")[0]):
        raise ConfigError(f"MEDIA_STORAGE_URL must look like s3://bucket/prefix (or be empty), got {media_url!r}")
    endpoint = env.get("MEDIA_S3_ENDPOINT_URL", "").strip()
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"MEDIA_S3_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}")
    public_url = env.get("KHABUAN_PUBLIC_URL", "http://127.0.0.1:8000").strip().rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"KHABUAN_PUBLIC_URL must be an http(s) URL, got {public_url!r}")
    login_id = env.get("LINE_LOGIN_CHANNEL_ID", "")
    login_secret = env.get("LINE_LOGIN_CHANNEL_SECRET", "")
    if bool(login_id) != bool(login_secret):
        raise ConfigError("Set both LINE_LOGIN_CHANNEL_ID and LINE_LOGIN_CHANNEL_SECRET, or neither")

    return Settings(
        channel_secret=secret,
        channel_access_token=token,
        line_api_base_url=base_url,
        database_url=db_url,
        timezone=tz,
        default_locale=locale,
        instance_path=instance,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        log_format=log_format,
        log_level=log_level,
        metrics_token=env.get("METRICS_TOKEN", "").strip(),
        media_storage_url=media_url,
        media_s3_endpoint_url=endpoint,
        public_url=public_url,
        secret_key=env.get("KHABUAN_SECRET_KEY", ""),
        login_channel_id=login_id,
        login_channel_secret=login_secret,
        login_metadata_url=env.get("LINE_LOGIN_METADATA_URL", LINE_LOGIN_METADATA),
    )
