"""BI reads documented read models and nothing else."""
import psycopg2
import pytest
from sqlalchemy import text

from tests.owners import as_role


def test_bi_reader_reads_read_models_only(engine):
    with as_role(engine, "bi_reader").cursor() as cur:
        cur.execute("SELECT count(*) FROM read_models.deal_current")
        cur.execute("SELECT count(*) FROM read_models.stalled_deals")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT * FROM events.event")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("INSERT INTO read_models.projection_checkpoint VALUES ('x', 0, 0, now())")


def test_every_read_model_table_and_column_is_documented(engine):
    with engine.connect() as conn:
        undocumented = conn.execute(text("""
            SELECT c.relname, a.attname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'read_models'
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relkind = 'r' AND col_description(c.oid, a.attnum) IS NULL""")).all()
        tables = conn.execute(text("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'read_models' AND c.relkind IN ('r', 'v')
              AND obj_description(c.oid, 'pg_class') IS NULL""")).all()
    assert undocumented == [] and tables == []
