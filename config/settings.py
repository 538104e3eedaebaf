"""The settings model of SPEC.md "Configuration", loaded from one TOML file.

Precedence: built-in defaults < TOML file < environment (SPORTELLO_*).
Unknown keys are errors: a typo in a config file must not pass silently.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config import calendar as _calendar
from config.calendar import CalendarSettings

PROVINCES = ("BG", "BS", "CO", "CR", "LC", "LO", "MB", "MI", "MN", "PV", "SO", "VA")

assert _calendar.PROVINCES == PROVINCES

PROVINCE_NAMES = {
    "BG": "Bergamo", "BS": "Brescia", "CO": "Como", "CR": "Cremona", "LC": "Lecco",
    "LO": "Lodi", "MB": "Monza e della Brianza", "MI": "Milano", "MN": "Mantova",
    "PV": "Pavia", "SO": "Sondrio", "VA": "Varese",
}


class ConfigError(Exception):
    """A configuration problem, with a one-line reason for the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _secret(env: str | None, file: str | None, what: str) -> str | None:
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(f"{what}: environment variable {env} is not set")
        return value
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read password_file {file}: {exc.strerror}") from None
    return None


class DatabaseSettings(_Strict):
    # None: SQLite in the data folder (data_dir/sportello.db).
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("sqlite:", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return v


class MailboxSettings(_Strict):
    province: str
    host: str
    port: int = Field(993, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str
    password_env: str | None = None
    password_file: str | None = None
    # XOAUTH2 for Microsoft 365 / Gmail: the access token comes from this
    # environment variable or file instead of a password.
    oauth2_token_env: str | None = None
    oauth2_token_file: str | None = None
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    failed_folder: str = "Failed"
    poll_interval: int = Field(60, ge=5, description="seconds between polls")
    idle: bool = True
    batch_size: int = Field(50, ge=1, le=1000)
    stale_after: int = Field(3600, ge=60, description="seconds without a successful fetch before it is reported")

    @field_validator("province")
    @classmethod
    def _province(cls, v: str) -> str:
        v = v.upper()
        if v not in PROVINCES:
            raise ValueError(f"unknown province {v!r}; one of {', '.join(PROVINCES)}")
        return v

    @model_validator(mode="after")
    def _one_secret(self) -> "MailboxSettings":
        given = [x for x in (self.password_env, self.password_file, self.oauth2_token_env, self.oauth2_token_file) if x]
        if len(given) != 1:
            raise ValueError("give exactly one of password_env, password_file, oauth2_token_env, oauth2_token_file")
        return self

    @property
    def key(self) -> str:
        """Stable identity of this mailbox in the database."""
        return f"imap:{self.username}@{self.host}:{self.port}/{self.folder}"

    def password(self) -> str | None:
        return _secret(self.password_env, self.password_file, f"mailbox {self.province}")

    def oauth2_token(self) -> str | None:
        return _secret(self.oauth2_token_env, self.oauth2_token_file, f"mailbox {self.province}")


class SmtpSettings(_Strict):
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    sender: str = Field(..., description="From: address of our mails")

    def password(self) -> str | None:
        return _secret(self.password_env, self.password_file, "smtp")


class LimitSettings(_Strict):
    max_message_bytes: int = 25 * 1024 * 1024
    max_attachments: int = 30
    max_unpacked_bytes: int = 60 * 1024 * 1024
    max_zip_ratio: int = 100
    max_zip_depth: int = 2
    max_image_pixels: int = 60_000_000
    max_pdf_pages: int = 20
    max_seconds_per_message: int = 120


class VerificationSettings(_Strict):
    # EU Reg. 2019/1157 art. 5(2)(a): paper identity cards cease to be valid.
    paper_id_invalid_from: date = date(2026, 8, 3)
    incomplete_timeout_days: int = Field(30, ge=1)
    # Days before the time-out the citizen is told the request is about to expire.
    expiry_notice_days: int = Field(5, ge=0)


class BackofficeSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    secret_key_env: str | None = None
    # The session cookie's Secure flag (and HSTS): "auto" sets it unless the request is for a loopback
    # host (127.0.0.1, ::1, localhost) or comes over HTTPS anyway; true always; false never.
    secure_cookies: bool | Literal["auto"] = "auto"
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDR
    # networks); a client's own such headers are ignored. The local nginx of deploy/ by default.
    trusted_proxies: list[str] = ["127.0.0.1"]
    # Where failed logins per client are counted: "memory://" (one node) or "redis://host:6379" (all nodes).
    throttle_storage: str = Field("memory://", pattern=r"^(memory|redis|rediss)://")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    # The address citizens reach the back office's public pages at (the booking link);
    # default: http://host:port.
    public_url: str | None = None

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class LoggingSettings(_Strict):
    # "text": one readable line per event (a terminal, journald); "json": one JSON object per line, for a
    # log collector. Either way no codice fiscale, body, image or code is ever logged.
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class StorageSettings(_Strict):
    """Encryption at rest of the blob store (db.crypto): a 32-byte key, 64 hex digits."""

    key_env: str | None = None  # e.g. "SPORTELLO_STORAGE_KEY"
    key_file: str | None = None
    # Keys of earlier rotations: still read, never written with (drop them after `sportello keys rotate`).
    retired_key_envs: list[str] = []
    retired_key_files: list[str] = []

    @model_validator(mode="after")
    def _one_source(self):
        if self.key_env and self.key_file:
            raise ValueError("give key_env or key_file, not both")
        if (self.retired_key_envs or self.retired_key_files) and not (self.key_env or self.key_file):
            raise ValueError("retired keys need a current key (key_env or key_file)")
        return self

    def key_texts(self) -> list[tuple[str, str]] | None:
        """(what, hex text) of the current key, then of each retired one; None when no key is configured.
        db.crypto.keyring_from turns them into keys (config reads secrets, it does not do cryptography)."""
        if not (self.key_env or self.key_file):
            return None
        texts = [("storage key", _secret(self.key_env, self.key_file, "storage key") or "")]
        texts += [(f"retired key {env}", _secret(env, None, f"retired storage key {env}") or "")
                  for env in self.retired_key_envs]
        texts += [(f"retired key {f}", _secret(None, f, f"retired storage key {f}") or "")
                  for f in self.retired_key_files]
        return texts


class RetentionSettings(_Strict):
    # GDPR art. 5(1)(e): scans and raw messages of a closed request are kept this many days after it
    # closed (time for a complaint or a second look), then purged (sportello.retention).
    closed_days: int = Field(90, ge=1)
    # Hours between two runs of the purge in `sportello run`.
    interval_hours: int = Field(24, ge=1)


class AlertSettings(_Strict):
    # The administrators' addresses: told once when a mailbox goes stale, once more when it recovers.
    # Empty: the warning is only logged (and shown by `sportello status`).
    to: list[str] = []

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for addr in value:
            if "@" not in addr or any(c.isspace() for c in addr.strip()):
                raise ValueError(f"not an e-mail address: {addr!r}")
        return [a.strip() for a in value]


class IceServer(_Strict):
    """One STUN or TURN server (RTCIceServer); a TURN credential comes from the environment or a file."""

    urls: list[str]
    username: str | None = None
    credential_env: str | None = None
    credential_file: str | None = None

    def for_browser(self) -> dict:
        out: dict = {"urls": self.urls}
        if self.username:
            out["username"] = self.username
            out["credential"] = _secret(self.credential_env, self.credential_file, "call.ice_servers") or ""
        return out


class SmsGatewaySettings(_Strict):
    """The SMS provider's HTTPS endpoint (calls.channels.HttpSmsGateway)."""

    url: str = Field(..., pattern=r"^https://")
    token_env: str | None = None
    sender: str | None = None
    ca_file: str | None = None


class IssuerSettings(_Strict):
    """The Region's PIN/PUK issuer over mutual TLS (calls.issuer.HttpsIssuer)."""

    url: str = Field(..., pattern=r"^https://")
    cert_file: str
    key_file: str
    ca_file: str | None = None


class CallSettings(_Strict):
    """The identification call (calls/): face-distance thresholds of the bands shown to the operator.

    face_recognition's distance between two 128-d encodings: at or under
    `match_threshold` the band is "corrisponde", at or under `doubt_threshold`
    "dubbio", above it "non corrisponde". Calibrated by bench/identification_bench.py.
    """

    match_threshold: float = Field(0.5, gt=0, lt=2)
    doubt_threshold: float = Field(0.6, gt=0, lt=2)
    # STUN/TURN servers handed to both browsers and used by the server's own peer (calls.media).
    ice_servers: list[IceServer] = []
    # Where the one-time code and the second part of the codes go: the form's mobile number
    # ("sms", through the gateway) or its e-mail address ("email", straight to [smtp], never the outbox).
    channel: Literal["sms", "email"] = "sms"
    sms_gateway: SmsGatewaySettings | None = None  # None: the local gateway (texts in memory, demo page)
    issuer: IssuerSettings | None = None  # None: the local issuer (demo and tests)

    @model_validator(mode="after")
    def _ordered(self):
        if self.match_threshold > self.doubt_threshold:
            raise ValueError("match_threshold must not exceed doubt_threshold")
        return self


class Settings(_Strict):
    data_dir: Path = Path("var")
    # From: of our mails when there is no [smtp] section (written to the outbox).
    mail_from: str = "spazioRegione <spazioregione@localhost>"
    # Seconds between two passes over the local Maildirs (the embedded default has no IDLE).
    maildir_poll_interval: int = Field(60, ge=1)
    database: DatabaseSettings = DatabaseSettings()
    mailboxes: list[MailboxSettings] = []
    smtp: SmtpSettings | None = None
    limits: LimitSettings = LimitSettings()
    verification: VerificationSettings = VerificationSettings()
    backoffice: BackofficeSettings = BackofficeSettings()
    logging: LoggingSettings = LoggingSettings()
    storage: StorageSettings = StorageSettings()
    retention: RetentionSettings = RetentionSettings()
    alerts: AlertSettings = AlertSettings()
    calendar: CalendarSettings = CalendarSettings()
    call: CallSettings = CallSettings()
    source: str = Field("<embedded default>", exclude=True)

    @model_validator(mode="after")
    def _call_channel_reachable(self):
        # The codes' second part never goes through the outbox folder: e-mail needs a real server.
        if self.call.channel == "email" and self.smtp is None:
            raise ValueError('[call] channel = "email" needs an [smtp] section: the second part of the codes '
                             'is sent straight to a mail server, never written to the outbox folder')
        return self

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'sportello.db'}"

    @property
    def sender_address(self) -> str:
        return self.smtp.sender if self.smtp else self.mail_from

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def maildir_root(self) -> Path:
        return self.data_dir / "maildir"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def describe(self) -> dict:
        """The effective configuration with every secret hidden."""
        data = self.model_dump(mode="json", exclude={"source"})
        data["database"]["url"] = _hide_url_password(self.database_url)
        data["source"] = self.source
        if not self.mailboxes:
            data["mailboxes"] = [
                {"province": p, "maildir": str(self.maildir_root / p)} for p in PROVINCES
            ]
        if self.smtp is None:
            data["smtp"] = {"outbox": str(self.outbox_dir)}
        # Each office's calendar as in force (defaults, [calendar], [calendar.XX] merged).
        from pydantic import TypeAdapter

        data["calendar"] = {
            "no_show_limit": self.calendar.no_show_limit,
            "link_valid_hours": self.calendar.link_valid_hours,
            "link_closes_hours_before": self.calendar.link_closes_hours_before,
            **{p: TypeAdapter(dict).dump_python(self.calendar.effective(p), mode="json", by_alias=True)
               for p in PROVINCES},
        }
        return data


def _hide_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is shown as-is, it holds no parsed secret
        return url


_ENV_OVERRIDES = {
    "SPORTELLO_DATABASE_URL": ("database", "url"),
    "SPORTELLO_DATA_DIR": ("data_dir",),
}


def _apply_env(data: dict) -> dict:
    for var, path in _ENV_OVERRIDES.items():
        if var in os.environ:
            node = data
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = os.environ[var]
    return data


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "config"
    if err["type"] == "extra_forbidden":
        return f"unknown key '{where}'"
    msg = err["msg"].removeprefix("Value error, ")
    return f"bad value for '{where}': {msg}"


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Load the settings: explicit path, else $SPORTELLO_CONFIG, else the embedded default."""
    path = path or os.environ.get("SPORTELLO_CONFIG") or None
    if path:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
        source = str(p)
    else:
        text = resources.files("config").joinpath("default.toml").read_text(encoding="utf-8")
        source = "<embedded default>"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    data = _apply_env(data)
    try:
        settings = Settings(**data, source=source)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_first_error(exc)}") from None
    seen: set[str] = set()
    for mb in settings.mailboxes:
        if mb.key in seen:
            raise ConfigError(f"{source}: mailbox {mb.key} is configured twice")
        seen.add(mb.key)
    return settings
