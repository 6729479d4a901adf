"""docs/bi.md is what `dealtrail bi-guide` renders from the declarations (it fails when they
drift apart), and each of its example questions runs as bi_reader on projected data."""
import re
from pathlib import Path

import pytest

from projections import bi_guide
from tests.integration.projection_helpers import History, project_all
from tests.owners import as_role

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "bi.md"


def test_the_committed_guide_is_the_rendered_one():
    assert GUIDE.read_text() == bi_guide.render(), "run `dealtrail bi-guide` and commit docs/bi.md"


@pytest.mark.parametrize("question, sql", bi_guide.EXAMPLES, ids=[q for q, _ in bi_guide.EXAMPLES])
def test_each_example_answers_as_bi_reader(fresh_engine, question, sql):
    h = History(fresh_engine)
    h.create("bi1", 0, segment="smb")
    h.sign("bi1", 10, amount="1500")
    h.create("bi2", 1, segment="ent")
    project_all(fresh_engine)
    with as_role(fresh_engine, "bi_reader").cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    if "forecast_snapshot" not in sql:  # snapshots are the watcher's; none were taken here
        assert rows, question


def test_view_column_types_are_the_databases(engine):
    """Views declare no column types: the guide's come from VIEW_TYPES, which must be what
    PostgreSQL reports for the migrated views."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE n.nspname = 'read_models' AND c.relkind = 'v' AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY c.relname, a.attnum").all()
    actual: dict[str, dict[str, str]] = {}
    for view, column, type_ in rows:
        actual.setdefault(view, {})[column] = type_
    assert actual == bi_guide.VIEW_TYPES


def test_each_relation_appears_once_start_here_first_internal_apart():
    text = bi_guide.render()
    names = re.findall(r"^### `read_models\.(\w+)`", text, re.M)
    assert len(names) == len(set(names)) == len(bi_guide._relations())
    start = [n for _, group in bi_guide.START_HERE for n in group]
    assert names[:len(start)] == start
    internal = text[text.index("## Internal"):]
    for name in ("deal_fold_point", "sums_moment", "rep_month_sums_at", "projection_stream"):
        assert f"### `read_models.{name}`" in internal
    assert "| `open_amount_end_of_day` | numeric |" in text  # view columns carry their type
