"""Attribution: each event records the id of the key that appended it, and a key's name (the
event's `actor`) is never reused, revoked keys included — before this, a revoked key's name
could be given to a new key, and two keys then appeared as one actor.

- `events.event.actor_key_id` (text, null for events recorded before this revision and for
  those the system writes itself): added without a default, so no row is rewritten and the
  append-only triggers do not fire. The app role's table-wide SELECT, INSERT covers it. No
  foreign key to auth.api_key: keys are never deleted, and the check would cost every append.
- Names unique among all keys: where a name is held by several keys (possible before), the
  active one keeps it, else the oldest; the others are renamed `<name>~<key_id>` (visible in
  `dealtrail keys list`; events they appended keep the actor they recorded). Not undone by a
  downgrade.

Downgrade refuses once an event carries a key id: that id is inside the event's hash, and
without the column the event would no longer verify.

Revision ID: 0022
Revises: 0021
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UPGRADE = r"""
UPDATE auth.api_key k SET name = k.name || '~' || k.key_id
FROM (SELECT key_id, row_number() OVER (PARTITION BY name
                                        ORDER BY revoked_at IS NOT NULL, created_at, key_id) AS rank
      FROM auth.api_key) ranked
WHERE ranked.key_id = k.key_id AND ranked.rank > 1;
DROP INDEX auth.api_key_active_name;
CREATE UNIQUE INDEX api_key_name ON auth.api_key (name);
COMMENT ON COLUMN auth.api_key.name IS 'Principal name: the actor of every event appended with the key. Unique among all keys, revoked ones included (never reused).';

ALTER TABLE events.event ADD COLUMN actor_key_id text;
COMMENT ON COLUMN events.event.actor_key_id IS 'key_id (auth.api_key) of the API key that appended the event, beside its name in actor; null for events written by the system itself and for those recorded before migration 0022. Part of the hashed envelope when not null.';
"""

DOWNGRADE = r"""
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM events.event WHERE actor_key_id IS NOT NULL) THEN
    RAISE EXCEPTION 'events carry actor_key_id inside their hashes: dropping the column would break their verification';
  END IF;
END $$;
ALTER TABLE events.event DROP COLUMN actor_key_id;
DROP INDEX auth.api_key_name;
CREATE UNIQUE INDEX api_key_active_name ON auth.api_key (name) WHERE revoked_at IS NULL;
COMMENT ON COLUMN auth.api_key.name IS 'Principal name: the actor of every event appended with the key.';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
