"""The `dealtrail` command: entry points read settings and wire things; nothing else does."""
import json
import os
import sys
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer
from sqlalchemy.engine import make_url

from infra import instance, logins
from services import logs
from infra.db import make_engine
from infra.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Dealtrail: event-sourced deal tracking.")

DatabaseUrl = Annotated[Optional[str], typer.Option(
    "--database-url", envvar="DATABASE_URL",
    help="PostgreSQL URL (default: the embedded PostgreSQL of --data-dir: the one `dealtrail up` "
         "runs there, else started for this command and stopped when it ends).")]
KafkaServers = Annotated[Optional[str], typer.Option(
    "--kafka-bootstrap-servers", envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers (default: the embedded broker of the `dealtrail up` running on "
         "--data-dir; without one, set this).")]
UpDatabaseUrl = Annotated[Optional[str], typer.Option(
    "--database-url", envvar="DATABASE_URL",
    help="PostgreSQL URL (default: an embedded PostgreSQL with its data in <data-dir>/pg).")]
UpKafkaServers = Annotated[Optional[str], typer.Option(
    "--kafka-bootstrap-servers", envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers (default: an embedded in-memory broker on a free port).")]
WatchKafkaServers = Annotated[Optional[str], typer.Option(
    "--kafka-bootstrap-servers", envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers to publish ledger digests to (dealtrail.digests); none: not published.")]
Topic = Annotated[Optional[str], typer.Option("--topic", envvar="DEALTRAIL_TOPIC")]
Host = Annotated[Optional[str], typer.Option("--host", envvar="DEALTRAIL_HOST")]
Port = Annotated[Optional[int], typer.Option("--port", envvar="DEALTRAIL_PORT")]
DataDir = Annotated[Optional[Path], typer.Option(
    "--data-dir", envvar="DEALTRAIL_DATA_DIR",
    help="Where the embedded database lives (default: ./.dealtrail); used when DATABASE_URL is not set.")]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version
        typer.echo(f"dealtrail {version('dealtrail')}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Dealtrail: event-sourced deal tracking."""


def main() -> None:
    """The `dealtrail` script: expected failures are one line on stderr (services.cli_errors)."""
    from services.cli_errors import describe
    try:
        app()
    except Exception as exc:
        line = describe(exc)
        if line is None:
            raise
        typer.echo(f"dealtrail: {line}", err=True)
        sys.exit(1)


def _settings(**overrides) -> Settings:
    return Settings().with_overrides(**overrides)


def _logging() -> None:
    logs.configure()


def _name_connections(service: str) -> None:
    """libpq reads PGAPPNAME: /readyz tells a live relay or worker by its sessions' name."""
    from services.readiness import application_name
    os.environ["PGAPPNAME"] = application_name(service)


def _stop_on_signals(grace: float | None = None) -> threading.Event:
    """SIGINT/SIGTERM set the event; a service that has not returned `grace` seconds later
    (DEALTRAIL_STOP_SECONDS, default 10: a round stuck on a dead database or broker) exits
    anyway. Under `up` the parent is watched too (services.lifeline)."""
    from services import lifeline
    grace = float(os.environ.get("DEALTRAIL_STOP_SECONDS", "10")) if grace is None else grace
    stop = lifeline.stop_on_signals(grace)
    lifeline.watch_parent()
    return stop


@contextmanager
def _not_configured_exits():
    """What is missing (a database, a broker) is said once, on stderr, with exit code 2."""
    try:
        yield
    except instance.NotConfigured as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@contextmanager
def _database(settings: Settings, *, admin: bool = False, create: bool = False):
    """The URL for the block: services log in as the app role, admin commands (migrate, rebuild,
    replay) as the schema owner; the embedded server of --data-dir if DATABASE_URL is unset."""
    with _not_configured_exits():
        with (instance.owner_url(settings, create=create) if admin
              else instance.service_url(settings)) as url:
            yield url


def _bootstrap(settings: Settings) -> str:
    with _not_configured_exits():
        return instance.bootstrap(settings)


def _engine(url: str, *, pool_size: int, admin: bool = False):
    """Admin engines hold the owner's rights; service connections also run SET ROLE
    dealtrail_app (infra.db), so a login with more rights than the app role still gets none."""
    if admin:
        return make_engine(url, pool_size=pool_size)
    return make_engine(url, pool_size=pool_size, app_role=logins.APP_LOGIN)


@app.command()
def migrate(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Apply database migrations (as the URL's user, who owns the schema); creates the embedded
    database of --data-dir if there is none yet."""
    from infra.migrate import upgrade
    from services.bootstrap import ensure_default_pipeline, record_loop_settings
    _logging()
    settings = _settings(database_url=database_url, data_dir=data_dir)
    with _database(settings, admin=True, create=True) as owner_url:
        upgrade(owner_url)
        app_url = logins.prepare(settings, owner_url, embedded=not settings.database_url)
        engine = _engine(app_url, pool_size=1)
        ensure_default_pipeline(engine, settings.currency)
        record_loop_settings(engine, settings.deviation_threshold)
        engine.dispose()
    typer.echo("migrations applied")


@app.command()
def api(database_url: DatabaseUrl = None, host: Host = None, port: Port = None,
        workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
        data_dir: DataDir = None) -> None:
    """Serve the HTTP API."""
    import uvicorn
    from services import lifeline
    settings = _settings(database_url=database_url, host=host, port=port, data_dir=data_dir)
    _port_free(settings.host, settings.port)
    with _database(settings) as url:
        _name_connections("api")
        os.environ["DATABASE_URL"] = url  # the API process never sees the owner's URL
        lifeline.watch_parent()
        # idle keep-alive connections close after 5 s; a request's headers and body must
        # arrive within DEALTRAIL_READ_TIMEOUT_SECONDS (services.api.plumbing.protocol); a stop waits
        # at most 5 s for requests in flight
        from services.api.plumbing.protocol import TimedHttpProtocol
        uvicorn.run("services.api.main:app", factory=True, host=settings.host, port=settings.port,
                    workers=workers, log_level="warning", access_log=False, http=TimedHttpProtocol,
                    timeout_keep_alive=5, timeout_graceful_shutdown=5)


@app.command()
def relay(database_url: DatabaseUrl = None, kafka_bootstrap_servers: KafkaServers = None,
          topic: Topic = None, data_dir: DataDir = None) -> None:
    """Publish committed events to Kafka in commit order (one active relay; others stand by)."""
    from events.relay import Relay, RelayConfig
    _logging()
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         topic=topic, data_dir=data_dir)
    config = RelayConfig(bootstrap=_bootstrap(settings), topic=settings.topic,
                         partitions=settings.partitions, batch=settings.relay_batch,
                         poll_seconds=settings.relay_poll_seconds)
    with _database(settings) as url:
        _name_connections("relay")
        engine = _engine(url, pool_size=3)
        Relay(engine, config).run(_stop_on_signals())
        engine.dispose()


@app.command()
def project(database_url: DatabaseUrl = None, kafka_bootstrap_servers: KafkaServers = None,
            topic: Topic = None, data_dir: DataDir = None) -> None:
    """Apply events from Kafka to the read models (a consumer-group member; run several)."""
    from projections.worker import Worker
    _logging()
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         topic=topic, data_dir=data_dir)
    bootstrap = _bootstrap(settings)
    with _database(settings) as url:
        _name_connections("worker")
        engine = _engine(url, pool_size=2)
        Worker(engine, bootstrap, settings.topic, snapshot_every=settings.snapshot_every).run(_stop_on_signals())
        engine.dispose()


@app.command()
def watch(database_url: DatabaseUrl = None, kafka_bootstrap_servers: WatchKafkaServers = None,
          data_dir: DataDir = None) -> None:
    """Deviation alerts (review.opened, once per target and period), forecast snapshots, and signed
    ledger digests (published to Kafka `dealtrail.digests` when a broker is configured)."""
    from services.audit_key import signing_key
    from services import watch as watching
    from services.digests import DigestDuty
    _logging()
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         data_dir=data_dir)
    digests = DigestDuty(signing_key(settings), settings.kafka_bootstrap_servers, settings.digest_seconds)
    with _database(settings) as url:
        _name_connections("watch")
        engine = _engine(url, pool_size=2)
        watching.run(engine, _stop_on_signals(), threshold=settings.deviation_threshold,
                     currency=settings.currency, stalled_level=settings.stalled_review_level,
                     every_seconds=min(settings.watch_seconds, settings.digest_seconds), digests=digests)
        engine.dispose()


def _progress_bar(total: int):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                               TimeRemainingColumn)
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed or 0:,.0f} events/s")

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                   TimeRemainingColumn())
    return bar, bar.add_task("events", total=total)


@app.command()
def rebuild(projections: Annotated[Optional[list[str]], typer.Argument(
                help="Projections to rebuild (default: all). Known: sales.")] = None,
            database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Rebuild read models from events.event into fresh tables, then swap them in atomically."""
    unknown = set(projections or []) - {"sales"}
    if unknown:
        typer.echo(f"unknown projection(s): {', '.join(sorted(unknown))} (known: sales)", err=True)
        raise typer.Exit(2)
    settings = _settings(database_url=database_url, data_dir=data_dir)
    with _database(settings, admin=True) as url:
        engine = _engine(url, pool_size=3, admin=True)
        _rebuild(engine, settings.snapshot_every)
        engine.dispose()


def _rebuild(engine, snapshot_every: int) -> None:
    from events.log_reader import settled_horizon
    from projections import rebuild as rebuilding
    bar, task = _progress_bar(rebuilding.count_events(engine, settled_horizon(engine)))
    with bar:
        through = rebuilding.rebuild(engine, progress=lambda n: bar.advance(task, n), snapshot_every=snapshot_every)
    typer.echo(f"rebuilt sales through position {through}")
    _report_projection_errors(engine)


def _report_projection_errors(engine) -> None:
    from projections import checkpoints, sales
    with engine.connect() as conn:
        failures = checkpoints.errors(conn, sales.NAME)
    for f in failures:
        typer.echo(f"left out event {f['event_id']} ({f['type']}, stream {f['stream_id']}, "
                   f"position {f['position']}): {f['error']}", err=True)
    if failures:
        typer.echo(f"{len(failures)} event(s) could not be applied; see read_models.projection_errors",
                   err=True)


@app.command()
def replay(until: Annotated[str, typer.Option(help="A position (integer) or a recorded-time timestamp.")],
           database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Build the read models as they were at a past moment into a separate schema (for auditors)."""
    from datetime import datetime
    position, recorded = (int(until), None) if until.isdigit() else (None, datetime.fromisoformat(until))
    if recorded is not None and recorded.tzinfo is None:
        typer.echo("--until timestamps need a timezone (e.g. 2026-11-01T00:00:00Z)", err=True)
        raise typer.Exit(2)
    with _database(_settings(database_url=database_url, data_dir=data_dir), admin=True) as url:
        engine = _engine(url, pool_size=3, admin=True)
        _replay(engine, position, recorded)
        engine.dispose()


def _replay(engine, position: int | None, recorded) -> None:
    from events.log_reader import settled_horizon
    from projections import rebuild as rebuilding
    upto = min(settled_horizon(engine), position) if position is not None else settled_horizon(engine)
    bar, task = _progress_bar(rebuilding.count_events(engine, upto, recorded))
    with bar:
        schema = rebuilding.replay(engine, position, recorded, progress=lambda n: bar.advance(task, n))
    typer.echo(f"replayed into schema {schema}")


@app.command()
def demo(deals: Annotated[int, typer.Option(min=1, help="How many deals.")] = 2000,
         seed: Annotated[int, typer.Option(help="Same seed (and --end), same events.")] = 1,
         end: Annotated[Optional[str], typer.Option(help="Last business day (default: today, UTC).")] = None,
         api_url: Annotated[str, typer.Option(envvar="DEALTRAIL_API_URL")] = "http://127.0.0.1:8000",
         api_key: Annotated[Optional[str], typer.Option(
             envvar="DEALTRAIL_API_KEY", help="A writer (unbound), manager or admin key "
             "(default: <data-dir>/admin.key).")] = None,
         data_dir: DataDir = None) -> None:
    """Post a realistic sales organisation through the batch API of a running Dealtrail."""
    from datetime import datetime, timezone
    import httpx
    from services.demo import generate
    until = datetime.fromisoformat(end) if end else datetime.now(timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0)
    if until.tzinfo is None:
        until = until.replace(tzinfo=timezone.utc)
    posted = batch = 0
    items: list[dict] = []
    headers = {"Authorization": f"Bearer {api_key or _admin_key(data_dir)}"}
    with httpx.Client(base_url=api_url, timeout=300, headers=headers) as client:
        for item in generate(deals, seed, until):
            items.append(item)
            if len(items) == 5000:
                posted += _post_batch(client, items)
                batch, items = batch + 1, []
                typer.echo(f"demo: batch {batch}, {posted} events posted (deal {item['deal_id']} of {deals})", err=True)
        posted += _post_batch(client, items)
    typer.echo(f"posted {posted} events for {deals} deals (seed {seed}, end {until.date()})")


def _admin_key(data_dir: Path | None) -> str:
    path = _settings(data_dir=data_dir).data_dir / "admin.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        typer.echo(f"no --api-key (DEALTRAIL_API_KEY) and no {path}", err=True)
        raise typer.Exit(2) from None


def _post_batch(client, items: list[dict]) -> int:
    if not items:
        return 0
    response = client.post("/v1/events/batch", json={"events": items})
    if response.status_code not in (200, 201):
        typer.echo(f"batch rejected: {response.status_code} {response.text[:500]}", err=True)
        raise typer.Exit(1)
    return len(items)


@app.command("bi-guide")
def bi_guide(output: Annotated[Path, typer.Option(help="Where to write it.")] = Path("docs/bi.md")) -> None:
    """Write the BI guide (tables, views, columns, example SQL) from the read models' comments."""
    from projections import bi_guide as guide
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(guide.render())
    typer.echo(f"wrote {output}")


@app.command()
def status(database_url: DatabaseUrl = None, kafka_bootstrap_servers: KafkaServers = None,
           data_dir: DataDir = None, host: Host = None, port: Port = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Health and lag of `up`, the API, database, broker, relay and worker; exit 1 if one is DOWN."""
    from infra import up_lock
    from services import status as report
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         data_dir=data_dir, host=host, port=port)
    try:
        bootstrap = instance.bootstrap(settings)
    except instance.NotConfigured:
        bootstrap = None  # no broker known: shown as not configured
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    running = up_lock.holder(settings.data_dir)
    api_url = running[1] if running and running[1] else f"http://{host}:{settings.port}"
    up_check = None if settings.database_url else _up_check(settings.data_dir, running)
    with _database(settings) as url:
        engine = _engine(url, pool_size=1)
        result = report.status(engine, bootstrap, api_url=api_url, up=up_check)
        engine.dispose()
    typer.echo(json.dumps(result, indent=2) if as_json else "\n".join(report.lines(result)))
    raise typer.Exit(0 if result["ok"] else 1)


def _up_check(data_dir: Path, running: tuple[int, str] | None):
    """With the embedded database, whether a `dealtrail up` runs on the data dir (else this
    command started its PostgreSQL just to look)."""
    from services.readiness import Check
    if running is None:
        return Check(False, f"not running on {data_dir}")
    return Check(True, f"pid {running[0]}", (("pid", running[0]),))


PublicKey = Annotated[Optional[str], typer.Option(
    "--public-key", envvar="DEALTRAIL_AUDIT_PUBLIC_KEY",
    help="The signer's Ed25519 public key, hex (default: from the key file of --data-dir / "
         "DEALTRAIL_AUDIT_KEY_FILE, or GET /v1/audit/public-key with --api-url).")]


@app.command()
def verify(public_key: PublicKey = None, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Recompute every hash chain, check every event against its Merkle leaf and the latest
    signed digest; exit 1 and name the first broken event if any."""
    from services.verification import verify_log
    settings = _settings(database_url=database_url, data_dir=data_dir)
    public_key = public_key or _key_file_public_key(settings)
    with _database(settings) as url:
        engine = _engine(url, pool_size=2)  # extending the tree reads the log beside its transaction
        try:
            result = verify_log(engine, public_key)
        finally:
            engine.dispose()
    typer.echo(json.dumps(result, indent=2))
    raise typer.Exit(0 if result["ok"] else 1)


def _key_file_public_key(settings: Settings) -> str | None:
    """The ledger key's public half, from the key file digests are signed with (None if absent)."""
    from events.digest import load_private_key, public_key_hex
    from services.audit_key import key_path
    path = key_path(settings)
    return public_key_hex(load_private_key(path.read_bytes())) if path.exists() else None


audit_app = typer.Typer(no_args_is_help=True, help="Ledger digests: check the log against a saved one.")
app.add_typer(audit_app, name="audit")


@audit_app.command("check")
def audit_check(
        digest: Annotated[Path, typer.Option("--digest", exists=True, dir_okay=False,
                                             help="A digest saved earlier (JSON from GET /v1/audit/digest).")],
        public_key: PublicKey = None,
        export: Annotated[Optional[Path], typer.Option(
            "--export", exists=True, dir_okay=False,
            help="NDJSON export (one event with its `hash` a line, position order) taken when the "
                 "digest was: names the first rewritten event.")] = None,
        api_url: Annotated[Optional[str], typer.Option("--api-url", help="Check through a running API.")] = None,
        api_key: Annotated[Optional[str], typer.Option("--api-key", envvar="DEALTRAIL_API_KEY")] = None,
        database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Prove that the log extends a saved digest; exit 1 naming the problem if it does not."""
    from services import audit_check as checking
    saved = checking.load_digest(digest)
    settings = _settings(database_url=database_url, data_dir=data_dir)
    if api_url:
        outcome = _check_via_api(checking, saved, api_url, api_key, public_key, export)
    else:
        outcome = _check_via_database(checking, saved, settings, public_key, export)
    typer.echo(outcome.message, err=not outcome.ok)
    raise typer.Exit(0 if outcome.ok else 1)


def _check_via_api(checking, saved: dict, api_url: str, api_key: str | None, public_key: str | None, export):
    import httpx
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(base_url=api_url, headers=headers, timeout=60) as client:
        if public_key is None:
            public_key = client.get("/v1/audit/public-key").raise_for_status().json()["public_key"]
        return checking.check_with_api(client, saved, public_key, export)


def _check_via_database(checking, saved: dict, settings: Settings, public_key: str | None, export):
    from services.audit_key import key_path
    public_key = public_key or _key_file_public_key(settings)
    if public_key is None:
        typer.echo(f"no --public-key given and no key file at {key_path(settings)}", err=True)
        raise typer.Exit(2)
    with _database(settings) as url:
        engine = _engine(url, pool_size=2)
        try:
            return checking.check_with_database(engine, saved, public_key, export)
        finally:
            engine.dispose()


bi_app = typer.Typer(no_args_is_help=True, help="Database logins for BI tools (read_models only).")
app.add_typer(bi_app, name="bi-login")


def bi_url(settings: Settings, owner_url: str, name: str, password: str) -> str:
    """How a BI tool connects as `name`: over TCP to the embedded PostgreSQL when it listens there
    (`up --pg-port`; the server's own listen_addresses and port say so), else the database URL
    itself (its socket or host) with the new login."""
    address = None if settings.database_url else logins.tcp_address(owner_url)
    if address is not None:
        database = make_url(owner_url).database
        return f"postgresql://{name}:{password}@{address[0]}:{address[1]}/{database}"
    return make_url(logins.login_url(owner_url, name, password)).set(drivername="postgresql").render_as_string(
        hide_password=False)


@bi_app.command("create")
def bi_login_create(name: str, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Make a LOGIN role in bi_reader (SELECT on read_models only) and print its connection URL
    (the password is shown this once). Run `dealtrail up --pg-port N` to reach the embedded
    database over TCP."""
    settings = _settings(database_url=database_url, data_dir=data_dir)
    with _database(settings, admin=True) as url:
        try:
            password = logins.create_bi_login(url, name, logins.limits_of(settings))
        except logins.BadLogin as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        typer.echo(bi_url(settings, url, name, password))


@bi_app.command("list")
def bi_login_list(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """The BI logins made by `bi-login create`."""
    with _database(_settings(database_url=database_url, data_dir=data_dir), admin=True) as url:
        for name in logins.bi_logins(url):
            typer.echo(name)


@bi_app.command("drop")
def bi_login_drop(name: str, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Remove a BI login made by `bi-login create`."""
    with _database(_settings(database_url=database_url, data_dir=data_dir), admin=True) as url:
        try:
            logins.drop_bi_login(url, name)
        except logins.BadLogin as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        typer.echo(f"dropped {name}")


keys_app = typer.Typer(no_args_is_help=True, help="API keys (admin): create, list, revoke.")
app.add_typer(keys_app, name="keys")
RoleOption = Annotated[str, typer.Option(help="writer, manager, auditor or admin.")]


@contextmanager
def _keys_engine(database_url: str | None, data_dir: Path | None):
    """The database of --data-dir / DATABASE_URL, as `verify` finds it (app login: auth.api_key)."""
    with _database(_settings(database_url=database_url, data_dir=data_dir)) as url:
        engine = _engine(url, pool_size=1)
        try:
            yield engine
        finally:
            engine.dispose()


def _key_json(api_key, **extra) -> str:
    return json.dumps({**api_key.to_dict(), **extra}, default=str, indent=2)


@keys_app.command("create")
def keys_create(name: str, role: RoleOption = "writer",
                owner_id: Annotated[Optional[str], typer.Option(help="Bind a writer key to this owner.")] = None,
                database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Create a key; its secret (`key`) is printed this once and stored only as a hash."""
    from services import keys
    if role not in {r.value for r in keys.Role} or (owner_id and role != keys.Role.WRITER):
        typer.echo("role must be writer, manager, auditor or admin; --owner-id binds writer keys only", err=True)
        raise typer.Exit(2)
    with _keys_engine(database_url, data_dir) as engine:
        try:
            key, secret = keys.create(engine, name, role, owner_id)
        except keys.NameTaken as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from None
    typer.echo(_key_json(key, key=secret))


@keys_app.command("list")
def keys_list(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Every key (never a secret), revoked ones with their revocation time."""
    from services import keys
    with _keys_engine(database_url, data_dir) as engine:
        listed = keys.listed(engine)
    typer.echo(json.dumps({"keys": [k.to_dict() for k in listed]}, default=str, indent=2))


@keys_app.command("revoke")
def keys_revoke(key_id: str, database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Revoke a key (idempotent); running APIs stop accepting it within their auth cache TTL (5 s).
    The last active admin key is refused: create another admin key first."""
    from services import keys
    with _keys_engine(database_url, data_dir) as engine:
        try:
            key = keys.revoke(engine, key_id)
        except (keys.KeyNotFound, keys.LastAdminKey) as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from None
    typer.echo(_key_json(key))


@app.command()
def up(database_url: UpDatabaseUrl = None, kafka_bootstrap_servers: UpKafkaServers = None,
       topic: Topic = None, host: Host = None, port: Port = None, data_dir: DataDir = None,
       pg_port: Annotated[Optional[int], typer.Option(
           "--pg-port", envvar="DEALTRAIL_PG_PORT", min=1, max=65535,
           help="Also serve the embedded PostgreSQL on TCP 127.0.0.1:PORT for BI tools (password logins only).")] = None,
       ) -> None:
    """Start everything: database and broker (embedded unless configured), migrations, API, relay."""
    from infra import up_lock
    from services.launcher import run_all
    _logging()
    settings = _settings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
                         topic=topic, host=host, port=port, data_dir=data_dir, pg_port=pg_port)
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    # before anything: a second `up` touches nothing
    lock = up_lock.hold(settings.data_dir, f"http://{shown}:{settings.port}")
    _port_free(settings.host, settings.port)
    from services import lifeline
    code = run_all(settings, lifeline.stop_on_signals(grace=None))
    os.close(lock)
    raise typer.Exit(code)


def _port_free(host: str, port: int) -> None:
    """Refused at once, before anything starts (the API child would fail and be retried)."""
    from infra.embedded import port_in_use
    from services.cli_errors import PortInUse
    if port_in_use(host, port):
        raise PortInUse(host, port)


@app.command()
def export(fmt: Annotated[str, typer.Option("--format", help="ndjson, cloudevents or csv.")] = "ndjson",
           deal: Annotated[Optional[str], typer.Option("--deal", help="Only this stream.")] = None,
           after: Annotated[int, typer.Option(min=0, help="Positions after this one.")] = 0,
           until: Annotated[Optional[str], typer.Option(
               help="Last position, or a recorded-time timestamp (inclusive).")] = None,
           output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File (default: stdout).")] = None,
           progress: Annotated[Optional[bool], typer.Option(
               "--progress/--no-progress", help="Progress bar on stderr (default: if stderr is a terminal).")] = None,
           database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Export the log in position order, the same bytes as GET /v1/export (README: Export)."""
    from events.export import ExportRange
    from events.export_formats import FORMATS
    from services import export_cli
    if fmt not in FORMATS:
        typer.echo(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", err=True)
        raise typer.Exit(2)
    try:
        wanted = ExportRange(after, export_cli.parse_until(until), deal)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    show = sys.stderr.isatty() if progress is None else progress
    with _database(_settings(database_url=database_url, data_dir=data_dir)) as url:
        engine = _engine(url, pool_size=2)
        with (open(output, "wb") if output else nullcontext(sys.stdout.buffer)) as out:
            export_cli.run(engine, fmt, wanted, out, show)
        engine.dispose()


if __name__ == "__main__":
    main()
