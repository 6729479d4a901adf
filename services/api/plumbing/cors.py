"""CORS for browser frontends (SPEC §6): only the origins of DEALTRAIL_CORS_ORIGINS; none by
default, so a deployment opens itself to a browser origin only by saying so."""
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware


def origins(setting: str) -> list[str]:
    return [o.strip() for o in setting.split(",") if o.strip()]


def install(app: FastAPI, setting: str) -> None:
    """Add last, so it is the outermost middleware: a preflight is answered before anything
    else (authentication included) sees it."""
    allowed = origins(setting)
    if not allowed:
        return
    app.add_middleware(CORSMiddleware, allow_origins=allowed,
                       allow_methods=["GET", "POST", "PUT", "DELETE"],
                       allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "X-Correlation-ID",
                                      "X-Causation-ID", "X-Dealtrail-Source"],
                       expose_headers=["X-Correlation-ID", "Last-Event-ID"])
