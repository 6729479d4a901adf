"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: each dependency)."""
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.api.plumbing.deps import EngineDep
from services.api.plumbing.read_models_out import HealthOut, ok
from services.readiness import BrokerProbe, database_checks

router = APIRouter(tags=["operations"])


@router.get("/healthz", responses=ok(HealthOut))
def healthz():
    return {"status": "ok"}


@router.get("/readyz", responses={**ok(HealthOut, "Ready (503 with the same body when not)"),
                                  503: {"model": HealthOut, "description": "Not ready"}})
def readyz(request: Request, engine: EngineDep):
    """503 when a required dependency is down. The broker, relay and worker are required when
    this API was given KAFKA_BOOTSTRAP_SERVERS (as `dealtrail up` does); the database always."""
    checks = {**database_checks(engine), "broker": _broker_probe(request).check()}
    required = ["database"]
    if request.app.state.settings.kafka_bootstrap_servers:
        required += ["broker", "relay", "worker"]
    ready = all(checks[name].ok is not False for name in required)
    body = {"status": "ready" if ready else "unavailable",
            "checks": {name: check.to_dict() for name, check in checks.items()}}
    return JSONResponse(status_code=200 if ready else 503, content=body)


def _broker_probe(request: Request) -> BrokerProbe:
    """One probe per app, made on first use: its cache is what keeps polling cheap."""
    state = request.app.state
    if getattr(state, "broker_probe", None) is None:
        state.broker_probe = BrokerProbe(state.settings.kafka_bootstrap_servers)
    return state.broker_probe
