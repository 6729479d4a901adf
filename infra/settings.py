"""One place for configuration: environment variables (or the same names as CLI options).

Each field's description is the documentation: docs/configuration.md is generated from them
(`python -m infra.settings_doc`), and a test fails when the committed file drifts."""
from decimal import Decimal
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL", description=(
        "Any PostgreSQL >= 14; the URL's user owns the schema (`migrate`, `rebuild`, `replay` use it). "
        "Unset: the embedded PostgreSQL in `DEALTRAIL_DATA_DIR`."))
    # How the services log in (see infra.logins); admin commands use DATABASE_URL.
    app_database_url: str | None = Field(default=None, alias="DEALTRAIL_APP_DATABASE_URL", description=(
        "What the services (`api`, `relay`, `project`, `watch`, `verify`, `export`) log in with; a service "
        "given only this never sees the owner's URL. Unset: `DATABASE_URL` with user `dealtrail_app` and "
        "`DEALTRAIL_APP_PASSWORD`."))
    app_password: SecretStr | None = Field(default=None, alias="DEALTRAIL_APP_PASSWORD", description=(
        "Password of the login role `dealtrail_app`; `migrate` and `up` set it (as the owner). "
        "Embedded: generated into `<data-dir>/secrets.json`."))
    bi_password: SecretStr | None = Field(default=None, alias="DEALTRAIL_BI_PASSWORD", description=(
        "Password of the BI login role `dealtrail_bi` (member of `bi_reader`); `migrate` and `up` "
        "create/set it. Embedded: generated into `<data-dir>/secrets.json`."))
    kafka_bootstrap_servers: str | None = Field(default=None, alias="KAFKA_BOOTSTRAP_SERVERS", description=(
        "Any Apache Kafka-compatible cluster. Unset: `up` starts the embedded Tansu broker on a free port; "
        "`relay`/`project` use the broker of the `up` running on `DEALTRAIL_DATA_DIR`."))
    topic: str = Field(default="dealtrail.events", alias="DEALTRAIL_TOPIC", description=(
        "Topic the relay publishes to (created with `DEALTRAIL_PARTITIONS`)."))
    partitions: int = Field(default=6, ge=1, alias="DEALTRAIL_PARTITIONS", description=(
        "Partitions of the topic when the relay creates it (they bound the workers of one consumer group)."))
    host: str = Field(default="127.0.0.1", alias="DEALTRAIL_HOST", description="API address.")
    port: int = Field(default=8000, alias="DEALTRAIL_PORT", description="API port.")
    data_dir: Path = Field(default=Path("./.dealtrail"), alias="DEALTRAIL_DATA_DIR", description=(
        "Where the embedded database lives (`pg/`, `secrets.json`, `admin.key`, `up.lock`, and "
        "`broker.json` while `up` runs); every command takes `--data-dir`."))
    # The embedded PostgreSQL also on TCP 127.0.0.1:<pg_port> for local BI tools (infra.pg_listen).
    pg_port: int | None = Field(default=None, ge=1, le=65535, alias="DEALTRAIL_PG_PORT", description=(
        "`up --pg-port N`: the embedded PostgreSQL itself also listens on TCP 127.0.0.1:N, for BI logins "
        "only. Unset: Unix socket only."))
    # What one BI login's statement, and its transaction left idle, may last (infra.bi_limits).
    bi_statement_timeout: int = Field(default=30, ge=1, alias="DEALTRAIL_BI_STATEMENT_TIMEOUT", description=(
        "Seconds: `statement_timeout` of every BI login (`dealtrail_bi` and each `bi-login create` one); "
        "`migrate` and `up` set it on existing logins too."))
    bi_idle_timeout: int = Field(default=60, ge=1, alias="DEALTRAIL_BI_IDLE_TIMEOUT", description=(
        "Seconds: `idle_in_transaction_session_timeout` of every BI login; `migrate` and `up` set it on "
        "existing logins too."))
    currency: str = Field(default="USD", alias="DEALTRAIL_CURRENCY", description=(
        "The reporting currency; others are rejected (no FX yet)."))
    relay_batch: int = Field(default=2000, ge=1, alias="DEALTRAIL_RELAY_BATCH", description="Events per relay batch.")
    relay_poll_seconds: float = Field(default=0.05, gt=0, alias="DEALTRAIL_RELAY_POLL_SECONDS", description=(
        "How long an idle relay waits before it reads the log again."))
    deviation_threshold: Decimal = Field(
        default=Decimal("0.2"), ge=0, lt=1, alias="DEALTRAIL_DEVIATION_THRESHOLD", description=(
            "A target deviates when actual < pace x (1 - threshold) after 25 % of its period "
            "(written to `read_models.loop_settings` by `migrate`, `up` and `watch`)."))
    watch_seconds: float = Field(default=30.0, gt=0, alias="DEALTRAIL_WATCH_SECONDS", description=(
        "How often `dealtrail watch` looks."))
    cors_origins: str = Field(default="", alias="DEALTRAIL_CORS_ORIGINS", description=(
        "Comma list of browser origins allowed to call the API, e.g. "
        "`https://crm.example.com,http://localhost:5173`; methods GET/POST/PUT/DELETE, request headers "
        "`Authorization` and `Content-Type`, `X-Correlation-ID` exposed. Empty: no CORS headers at all."))
    stalled_review_level: int = Field(default=5, ge=0, alias="DEALTRAIL_STALLED_REVIEW_LEVEL", description=(
        "Stalled deals of one rep that open a `stalled` review (0: off)."))
    # Ledger digests (services.audit_key, services.digests): the signing key, and how often watch records one.
    audit_key_file: Path | None = Field(default=None, alias="DEALTRAIL_AUDIT_KEY_FILE", description=(
        "The Ed25519 key that signs ledger digests (PKCS#8 PEM, generated on first use); API and watcher "
        "must read the same file. Unset: `<data-dir>/audit.key`."))
    digest_seconds: float = Field(default=60.0, gt=0, alias="DEALTRAIL_DIGEST_SECONDS", description=(
        "How often `dealtrail watch` records a signed ledger digest when the log grew."))
    metrics_public: bool = Field(default=False, alias="DEALTRAIL_METRICS_PUBLIC", description=(
        "`true`: `/metrics` answers without a key from any address (else only on loopback)."))
    auth_cache_seconds: float = Field(default=5.0, ge=0, alias="DEALTRAIL_AUTH_CACHE_SECONDS", description=(
        "How long an API process trusts a key it looked up (a revocation elsewhere takes effect within this)."))
    # Event streams (GET /v1/events/stream) one API key may hold open at once (429 beyond).
    max_streams_per_key: int = Field(default=8, ge=1, alias="DEALTRAIL_MAX_STREAMS_PER_KEY", description=(
        "Event streams (`GET /v1/events/stream`) one API key may hold open at once per API process; "
        "429 `too_many_streams` beyond."))
    # A request's headers and body must arrive within this (services.api.plumbing.protocol: slowloris).
    read_timeout_seconds: float = Field(default=60.0, gt=0, alias="DEALTRAIL_READ_TIMEOUT_SECONDS", description=(
        "A request's headers and body must arrive within this, else the API closes the connection."))
    # Group commit of single-event posts (services.group_commit), per API process.
    group_commit_max: int = Field(default=256, ge=1, alias="DEALTRAIL_GROUP_COMMIT_MAX", description=(
        "Most single-event posts one API process commits in one transaction (group commit; `1`: a "
        "transaction per post)."))
    group_commit_flushers: int = Field(default=1, ge=1, alias="DEALTRAIL_GROUP_COMMIT_FLUSHERS", description=(
        "Group-commit transactions an API process runs at once; posts that arrive while all are busy wait "
        "and go together in the next (one gives larger groups: 1,080-1,285 single-event posts/s against "
        "863-992 with two, 32 clients, 2 API processes, on a 2-core machine)."))
    # Log positions between the worker's snapshots of the sums (reports as_of a moment add the
    # change since the newest one before it: projections.sums.snapshots).
    snapshot_every: int = Field(default=10_000, ge=100, alias="DEALTRAIL_SNAPSHOT_EVERY", description=(
        "Log positions between the worker's snapshots of the sums `as_of` reports start from (fewer: "
        "faster as_of reports, more worker time and `*_at` rows; a snapshot step costs ~0.15-0.4 s at 1M "
        "events; while applying, at most one step per 10 s, the first 10 s after the worker starts; idle "
        "polls take the rest at once)."))

    def with_overrides(self, **values) -> "Settings":
        """Copy with the CLI options that were actually given."""
        given = {k: v for k, v in values.items() if v is not None}
        return self.model_copy(update=given)
