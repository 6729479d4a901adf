"""Uvicorn factory (`services.api.main:app`): settings from the environment."""
from fastapi import FastAPI

from infra.settings import Settings
from services import logs
from services.api.app import create_app


def app() -> FastAPI:
    logs.configure()  # a worker process of `dealtrail api --workers N` starts here
    return create_app(Settings())
