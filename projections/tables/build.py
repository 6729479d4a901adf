"""The declared tables (projections.tables.declared) created in a fresh schema that a rebuild or
replay fills: columns, keys and comments first, secondary indexes once the rows are in."""
from sqlalchemy import Connection
from sqlalchemy.schema import CreateIndex, CreateTable, SetColumnComment, SetTableComment

from projections.runtime.names import schema_name
from projections.tables import declared as tables
from projections.tables.groups import OWN_TABLES

INDEX_MEMORY = "256MB"  # maintenance_work_mem of an index build (per connection building one)


def create_tables(conn: Connection, schema: str) -> None:
    """The sales tables, as declared (columns, keys, comments; secondary indexes come with
    create_indexes once the rows are in), and the aggregate views over them, in the fresh `schema`
    (the runtime made it, with the bookkeeping tables)."""
    s = schema_name(schema)
    translated = conn.execution_options(schema_translate_map={tables.SCHEMA: s})
    for table in _declared():
        translated.execute(CreateTable(table))
        for statement in _comments(table):
            translated.execute(statement)
    for view in tables.AGGREGATE_VIEWS:  # reports read a replay schema's aggregates through them
        for statement in view.statements(s):
            conn.exec_driver_sql(statement.replace("%", "%%"))


def create_indexes(conn: Connection, schema: str, names: tuple[str, ...] = OWN_TABLES) -> None:
    """The declared secondary indexes of the tables `names`: built once the rows are in, which is
    quicker than keeping them up to date row by row."""
    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")  # each sort in memory
    translated = conn.execution_options(schema_translate_map={tables.SCHEMA: schema_name(schema)})
    for table in _declared(names):
        for index in table.indexes:
            translated.execute(CreateIndex(index))


def swap_in(conn: Connection, schema: str) -> None:
    """Move the built tables in, then recreate the views that depended on the old ones, with
    the grants and comments of their declarations (the tables carry theirs from the build)."""
    for table in OWN_TABLES:
        conn.exec_driver_sql(f"DROP TABLE read_models.{table} CASCADE")
        conn.exec_driver_sql(f"ALTER TABLE {schema_name(schema)}.{table} SET SCHEMA read_models")
        for statement in tables.grants(table):
            conn.exec_driver_sql(statement)
    for view in tables.VIEWS:
        for statement in [*view.statements(), *tables.grants(view.name, view=True)]:
            conn.exec_driver_sql(statement.replace("%", "%%"))  # exec_driver_sql formats with pyformat


def _declared(names: tuple[str, ...] = OWN_TABLES) -> list:
    return [tables.metadata.tables[f"{tables.SCHEMA}.{t}"] for t in names]


def _comments(table) -> list:
    """COMMENT ON the table and its columns (create_all emits them; CreateTable does not)."""
    return [SetTableComment(table), *(SetColumnComment(c) for c in table.columns if c.comment)]
