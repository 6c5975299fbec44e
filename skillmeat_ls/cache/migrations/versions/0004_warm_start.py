"""This server's warm-start tables: copy_hashes, collection_snapshots and file_verdicts.

Revision ID: 0004_warm_start
Revises: 0003_index_tables
Create Date: 2026-12-01

``copy_hashes`` remembers, for each deployed copy inside a profile root (``.claude/skills/x``,
``.agents/commands/y.md``), the stat fingerprint its hash was computed from, the hash, and why it
was not hashed when an entry in it leads outside the root (SM133). A restart re-hashes only the
copies whose fingerprint changed. ``collection_snapshots`` keeps, per collection directory, what
reading its ``collection.toml`` and ``collection.lock`` gave (JSON, with the files' stat data and
the paths it resolved), so a restart parses only the manifests that changed. ``file_verdicts``
keeps each deployment file's last diagnostics with what they were computed from (JSON), so a warm
workspace scan re-analyses only the files whose text, inputs or disk answers changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_warm_start"
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
    op.create_table(
        "collection_snapshots",
        sa.Column("root_path", sa.String(), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "file_verdicts",
        sa.Column("path", sa.String(), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("file_verdicts")
    op.drop_table("collection_snapshots")
    op.drop_table("copy_hashes")
