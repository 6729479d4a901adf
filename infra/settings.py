"""One place for configuration: environment variables (or the same names as CLI options)."""
from decimal import Decimal
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    # How the services log in (see infra.logins); admin commands use DATABASE_URL.
    app_database_url: str | None = Field(default=None, alias="DEALTRAIL_APP_DATABASE_URL")
    app_password: SecretStr | None = Field(default=None, alias="DEALTRAIL_APP_PASSWORD")
    bi_password: SecretStr | None = Field(default=None, alias="DEALTRAIL_BI_PASSWORD")
    kafka_bootstrap_servers: str | None = Field(default=None, alias="KAFKA_BOOTSTRAP_SERVERS")
    topic: str = Field(default="dealtrail.events", alias="DEALTRAIL_TOPIC")
    partitions: int = Field(default=6, ge=1, alias="DEALTRAIL_PARTITIONS")
    host: str = Field(default="127.0.0.1", alias="DEALTRAIL_HOST")
    port: int = Field(default=8000, alias="DEALTRAIL_PORT")
    data_dir: Path = Field(default=Path("./.dealtrail"), alias="DEALTRAIL_DATA_DIR")
    # The embedded PostgreSQL also on TCP 127.0.0.1:<pg_port> for local BI tools (infra.pg_listen).
    pg_port: int | None = Field(default=None, ge=1, le=65535, alias="DEALTRAIL_PG_PORT")
    # What one BI login's statement, and its transaction left idle, may last (infra.bi_limits).
    bi_statement_timeout: int = Field(default=30, ge=1, alias="DEALTRAIL_BI_STATEMENT_TIMEOUT")  # seconds
    bi_idle_timeout: int = Field(default=60, ge=1, alias="DEALTRAIL_BI_IDLE_TIMEOUT")  # seconds
    currency: str = Field(default="USD", alias="DEALTRAIL_CURRENCY")
    relay_batch: int = Field(default=2000, ge=1, alias="DEALTRAIL_RELAY_BATCH")
    relay_poll_seconds: float = Field(default=0.05, gt=0, alias="DEALTRAIL_RELAY_POLL_SECONDS")
    deviation_threshold: Decimal = Field(default=Decimal("0.2"), ge=0, lt=1, alias="DEALTRAIL_DEVIATION_THRESHOLD")
    watch_seconds: float = Field(default=30.0, gt=0, alias="DEALTRAIL_WATCH_SECONDS")
    cors_origins: str = Field(default="", alias="DEALTRAIL_CORS_ORIGINS")  # comma list; none: no CORS
    stalled_review_level: int = Field(default=5, ge=0, alias="DEALTRAIL_STALLED_REVIEW_LEVEL")
    # Ledger digests (services.audit_key, services.digests): the signing key, and how often watch records one.
    audit_key_file: Path | None = Field(default=None, alias="DEALTRAIL_AUDIT_KEY_FILE")
    digest_seconds: float = Field(default=60.0, gt=0, alias="DEALTRAIL_DIGEST_SECONDS")
    metrics_public: bool = Field(default=False, alias="DEALTRAIL_METRICS_PUBLIC")  # else loopback only
    auth_cache_seconds: float = Field(default=5.0, ge=0, alias="DEALTRAIL_AUTH_CACHE_SECONDS")
    # Event streams (GET /v1/events/stream) one API key may hold open at once (429 beyond).
    max_streams_per_key: int = Field(default=8, ge=1, alias="DEALTRAIL_MAX_STREAMS_PER_KEY")
    # A request's headers and body must arrive within this (services.api.plumbing.protocol: slowloris).
    read_timeout_seconds: float = Field(default=60.0, gt=0, alias="DEALTRAIL_READ_TIMEOUT_SECONDS")
    # Group commit of single-event posts (services.group_commit), per API process.
    group_commit_max: int = Field(default=256, ge=1, alias="DEALTRAIL_GROUP_COMMIT_MAX")
    group_commit_flushers: int = Field(default=1, ge=1, alias="DEALTRAIL_GROUP_COMMIT_FLUSHERS")
    # Log positions between the worker's snapshots of the sums (reports as_of a moment add the
    # change since the newest one before it: projections.snapshots).
    snapshot_every: int = Field(default=10_000, ge=100, alias="DEALTRAIL_SNAPSHOT_EVERY")

    def with_overrides(self, **values) -> "Settings":
        """Copy with the CLI options that were actually given."""
        given = {k: v for k, v in values.items() if v is not None}
        return self.model_copy(update=given)
