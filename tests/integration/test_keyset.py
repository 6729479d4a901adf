"""Keyset pages (projections.reports.keyset) on real PostgreSQL: every NULL placement and
direction, with ties and NULLs, yields every row exactly once in the documented order."""
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select

from projections.reports.keyset import Sort

VALUES = [3, 1, None, 3, 2, None, 1, 3, None, 2, 5]  # ties on 1, 2, 3 and on NULL
things = Table("keyset_things", MetaData(), Column("id", Text, primary_key=True), Column("v", Integer),
               prefixes=["TEMPORARY"])


@pytest.fixture()
def conn(engine):
    with engine.connect() as connection:
        things.create(connection)
        connection.execute(insert(things), [{"id": f"k{i:02d}", "v": v} for i, v in enumerate(VALUES)])
        yield connection
        connection.rollback()


def expected(descending: bool, nulls_last: bool) -> list[str]:
    rows = [(f"k{i:02d}", v) for i, v in enumerate(VALUES)]
    present = sorted((r for r in rows if r[1] is not None), key=lambda r: (r[1], r[0]), reverse=descending)
    missing = sorted((r for r in rows if r[1] is None), reverse=descending)
    nulls_first = descending and not nulls_last
    return [r[0] for r in (missing + present if nulls_first else present + missing)]


def pages(conn, sort: Sort, limit: int) -> list[str]:
    seen, after = [], None
    while True:
        query = select(things).where(*([sort.after(after)] if after else []))
        rows = conn.execute(query.order_by(*sort.order_by()).limit(limit + 1)).mappings().all()
        seen += [r["id"] for r in rows[:limit]]
        if len(rows) <= limit:
            return seen
        after = sort.decode(sort.cursor(rows[limit - 1]))


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("nulls_last", [False, True])
@pytest.mark.parametrize("limit", [1, 2, 3, 20])
def test_pages_cover_every_row_once_in_order(conn, descending, nulls_last, limit):
    sort = Sort(things.c.v, things.c.id, descending, nulls_last)
    assert pages(conn, sort, limit) == expected(descending, nulls_last)


@pytest.mark.parametrize("descending", [False, True])
def test_tiebreak_only(conn, descending):
    sort = Sort(things.c.id, things.c.id, descending)
    assert pages(conn, sort, 4) == sorted((f"k{i:02d}" for i in range(len(VALUES))), reverse=descending)
