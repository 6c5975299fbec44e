"""This server's copy_hashes: the content hashes of deployed copies, for warm starts.

Revision ID: 0004_copy_hashes
Revises: 0003_index_tables
Create Date: 2026-12-01

``copy_hashes`` remembers, for each deployed copy inside a profile root (``.claude/skills/x``,
``.agents/commands/y.md``), the stat fingerprint its hash was computed from, the hash, and why it
was not hashed when an entry in it leads outside the root (SM133). A restart re-hashes only the
copies whose fingerprint changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_copy_hashes"
down_revision = "0003_index_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "copy_hashes",
        sa.Column("path", sa.String(), primary_key=True),
        sa.Column("root", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("leaves", sa.Text()),
        sa.Column(
            "hashed_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
        if_not_exists=True,
    )
    op.create_index("idx_copy_hashes_root", "copy_hashes", ["root"], if_not_exists=True)


def downgrade() -> None:
    op.drop_table("copy_hashes")
