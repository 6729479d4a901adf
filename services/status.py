"""`dealtrail status`: every component's health and lag, as an operator reads it.

The same judgements as /readyz (services.readiness) plus how far the relay and the projection
are behind the log, in events and seconds — but about what runs, not what serves: a relay or
worker with no session is DOWN even when nothing waits for it (readiness calls that idle),
a broker nobody configured or runs is DOWN, and so are an API that does not answer and, with
the embedded database, a data dir no `dealtrail up` runs on (the command started its
PostgreSQL for this look only). Anything not OK exits 1."""
import httpx
from sqlalchemy import Engine

from events.relay import relay_lag
from projections import sales_projection as sales
from projections.runtime import checkpoints
from services.readiness import RELAY, WORKER, BrokerProbe, Check, database_checks

ORDER = ("up", "api", "database", "broker", RELAY, WORKER)


def status(engine: Engine, bootstrap: str | None, *, api_url: str | None = None,
           up: Check | None = None) -> dict:
    checks = {**database_checks(engine), "broker": _broker(bootstrap)}
    for name in (RELAY, WORKER):
        if checks[name].ok and not dict(checks[name].details).get("running"):
            checks[name] = Check(False, "not running", checks[name].details)
    if api_url is not None:
        checks["api"] = api_check(api_url)
    if up is not None:
        checks["up"] = up
    out = {name: check.to_dict() for name, check in checks.items()}
    if checks["database"].ok:
        with engine.connect() as conn:
            out[RELAY]["lag"] = relay_lag(conn)
            out[WORKER]["lag"] = checkpoints.lag(conn, sales.NAME)
    out["ok"] = all(check.ok is True for check in checks.values())
    return out


def _broker(bootstrap: str | None) -> Check:
    if bootstrap is None:
        return Check(False, "not running (no KAFKA_BOOTSTRAP_SERVERS, no `dealtrail up` broker)")
    return BrokerProbe(bootstrap).check()


def api_check(api_url: str) -> Check:
    try:
        answered = httpx.get(f"{api_url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        answered = False
    return Check(True) if answered else Check(False, f"not answering on {api_url}")


def lines(report: dict) -> list[str]:
    """One line per component: name, OK / DOWN / ?, reason, lag."""
    out = []
    for name in (n for n in ORDER if n in report):
        check = report[name]
        mark = {True: "OK", False: "DOWN", None: "DOWN"}[check["ok"]]
        text = f"{name:<9} {mark:<5}"
        if check.get("reason"):
            text += f" {check['reason']}"
        if "lag" in check:
            lag = check["lag"]
            text += (f" position {lag['position']}, {lag['events_behind']} events / "
                     f"{lag['seconds_behind']:.1f} s behind")
            if lag.get("errors"):
                text += f", {lag['errors']} events left out (projection_errors)"
        out.append(text)
    return out
