"""docs/bi.md is what `dealtrail bi-guide` renders from the declarations (it fails when they
drift apart), and each of its example questions runs as bi_reader on projected data."""
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
