"""Read-model tables and views have one declaration (projections.tables.declared): the migrated database
matches it, and a rebuild keeps every comment BI tools show."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, text

from events.store import pipeline_stage_lists
from infra.db import make_engine, to_sqlalchemy_url
from projections.read_models import SALES
from projections.runtime import rebuild
from projections.tables import declared as tables
from tests.owners import owner_url

_COMMENTS = """
SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class') AS comment,
       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
          AND NOT a.attisdropped) AS columns,
       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
          AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NOT NULL) AS commented
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'read_models' AND c.relkind IN ('r', 'v') ORDER BY c.relname
"""


def catalog(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(_COMMENTS)).mappings()]


def test_migrations_match_the_declarations(db_url):
    engine = create_engine(to_sqlalchemy_url(db_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, kind, parent: kind != "schema" or name == tables.SCHEMA})
        drift = compare_metadata(context, tables.metadata)
    engine.dispose()
    assert drift == []


def test_every_table_view_and_column_is_documented_as_declared(engine):
    rows = {r["relname"]: r for r in catalog(engine)}
    declared = {t.name for t in tables.metadata.tables.values()} | {v.name for v in tables.VIEWS}
    assert set(rows) == declared
    for row in rows.values():
        assert row["comment"] and row["commented"] == row["columns"], row["relname"]
    for view in tables.VIEWS:
        assert rows[view.name]["comment"] == view.comment


def test_rebuild_keeps_every_comment_and_grant(fresh_engine):
    before = catalog(fresh_engine)
    owner = make_engine(owner_url(fresh_engine), pool_size=2)
    rebuild.rebuild(SALES, owner)
    assert catalog(fresh_engine) == before
    with owner.connect() as conn:
        conn.exec_driver_sql("SET ROLE bi_reader")
        for name in [*(t.name for t in tables.metadata.tables.values()), *(v.name for v in tables.VIEWS)]:
            conn.exec_driver_sql(f"SELECT * FROM read_models.{name} LIMIT 0")
    owner.dispose()


def test_pipeline_heads_are_read_through_their_partial_index(fresh_engine):
    """The projection reads the pipelines' stage lists every poll: the query must match the
    partial index's predicate (else it scans every stream head, a cost that grows with deals)."""
    statements = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "stream_head" in statement and not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))
    with fresh_engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", note)
        assert pipeline_stage_lists(conn)["default"]
        event.remove(conn, "before_cursor_execute", note)
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        [(statement, parameters)] = statements
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters or ()))
    assert "stream_head_pipeline_idx" in plan, plan
