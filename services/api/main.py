"""Uvicorn factory (`services.api.main:app`): settings from the environment."""
from fastapi import FastAPI

from infra.settings import Settings
from services.api.app import create_app


def app() -> FastAPI:
    return create_app(Settings())
