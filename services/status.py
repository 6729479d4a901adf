"""`dealtrail status`: every component's health and lag, as an operator reads it.

The same judgements as /readyz (services.readiness) plus how far the relay and the projection
are behind the log, in events and seconds."""
from sqlalchemy import Engine

from events.relay import relay_lag
from projections import checkpoints, sales
from services.readiness import RELAY, WORKER, BrokerProbe, database_checks


def status(engine: Engine, bootstrap: str | None) -> dict:
    checks = {**database_checks(engine), "broker": BrokerProbe(bootstrap).check()}
    out = {name: check.to_dict() for name, check in checks.items()}
    if checks["database"].ok:
        with engine.connect() as conn:
            out[RELAY]["lag"] = relay_lag(conn)
            out[WORKER]["lag"] = checkpoints.lag(conn, sales.NAME)
    out["ok"] = all(check.ok is not False for check in checks.values())
    return out


def lines(report: dict) -> list[str]:
    """One line per component: name, OK / DOWN / ?, reason, lag."""
    out = []
    for name in ("database", "broker", RELAY, WORKER):
        check = report[name]
        mark = {True: "OK", False: "DOWN", None: "?"}[check["ok"]]
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
