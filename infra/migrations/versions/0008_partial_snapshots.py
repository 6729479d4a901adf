"""forecast_snapshot.partial: a snapshot taken after its period started is not the forecast of the
period's start (a fresh install, a watcher that was down, a rep who appeared mid-period).

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE read_models.forecast_snapshot
  ADD COLUMN partial boolean NOT NULL DEFAULT false,
  ADD COLUMN partial_reason text;
COMMENT ON COLUMN read_models.forecast_snapshot.partial IS
  'True when taken after the period started: it reflects the pipeline then, not at the period start; forecast accuracy leaves it out.';
COMMENT ON COLUMN read_models.forecast_snapshot.partial_reason IS 'Why the snapshot is partial (NULL when it is not).';
UPDATE read_models.forecast_snapshot s
SET partial = true, partial_reason = 'taken after the period started (marked by migration 0008)'
FROM (SELECT period, CASE
        WHEN period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN make_date(left(period, 4)::int, right(period, 2)::int, 1)
        WHEN period ~ '^[0-9]{4}-Q[1-4]$' THEN make_date(left(period, 4)::int, right(period, 1)::int * 3 - 2, 1)
        WHEN period ~ '^[0-9]{4}$' THEN make_date(period::int, 1, 1)
      END AS start
      FROM read_models.forecast_snapshot WHERE period !~ '^0000') p
WHERE p.period = s.period AND s.taken_at > p.start + interval '1 day';
"""

DOWNGRADE = r"""
ALTER TABLE read_models.forecast_snapshot DROP COLUMN partial, DROP COLUMN partial_reason;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
