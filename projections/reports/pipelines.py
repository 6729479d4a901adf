"""The pipeline definitions in force, as the read models hold them (read_models.pipeline_stage):
the stage list and per-stage settings GET /v1/pipelines shows (the reports take a pipeline's
stages from events.store.pipeline_stage_lists, the source the write side decides with)."""
from sqlalchemy import Connection

_DEFINITIONS = "SELECT * FROM read_models.pipeline_stage ORDER BY pipeline, stage_index"


def definitions(conn: Connection) -> list[dict]:
    """Every defined pipeline with its stages in order (probabilities as numbers, as the API shows them)."""
    pipelines: dict[str, list] = {}
    for row in conn.exec_driver_sql(_DEFINITIONS).mappings():
        pipelines.setdefault(row["pipeline"], []).append(
            {"stage": row["stage"], "probability": float(row["probability"]),
             "stall_after_days": row["stall_after_days"],
             "target_conversion": None if row["target_conversion"] is None else float(row["target_conversion"])})
    return [{"pipeline": k, "stages": v} for k, v in pipelines.items()]

