"""API keys (SPEC §6): schema `auth`, readable and writable by the app role only; bi_reader
gets nothing here. Secrets are never stored, only their SHA-256 (256-bit random keys need no
KDF); the unique index on the hash is the one lookup each request makes.

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE SCHEMA IF NOT EXISTS auth;
        COMMENT ON SCHEMA auth IS 'API keys; the app role only (not bi_reader).';
        CREATE TABLE auth.api_key (
            key_id text PRIMARY KEY,
            name text NOT NULL,
            role text NOT NULL CHECK (role IN ('writer', 'manager', 'auditor', 'admin')),
            owner_id text,
            key_hash bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        );
        CREATE UNIQUE INDEX api_key_active_name ON auth.api_key (name) WHERE revoked_at IS NULL;
        COMMENT ON TABLE auth.api_key IS 'API keys: the SHA-256 of each secret, never the secret.';
        COMMENT ON COLUMN auth.api_key.name IS 'Principal name: the actor of every event appended with the key.';
        COMMENT ON COLUMN auth.api_key.owner_id IS 'writer keys only: the owner whose deals the key may create and change.';
        GRANT USAGE ON SCHEMA auth TO dealtrail_app;
        GRANT SELECT, INSERT, UPDATE ON auth.api_key TO dealtrail_app;
    """)


def downgrade() -> None:
    op.execute("DROP SCHEMA auth CASCADE")
