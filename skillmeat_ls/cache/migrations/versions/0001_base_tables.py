"""Base tables: projects, artifacts, cache_metadata.

Revision ID: 0001_base_tables
Revises:
Create Date: 2026-11-24

Every ``create`` is ``if_not_exists``: a database built by ``create_all()`` without Alembic is
adopted by stamping the revision its tables match and upgrading from there (see ``store.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from skillmeat_ls.cache.models import ARTIFACT_TYPES_SQL, updated_at_trigger_sql

revision = "0001_base_tables"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("path", sa.String(), nullable=False, unique=True),
        sa.Column("description", sa.Text()),
        sa.Column("status", sa.String(), nullable=False, server_default="active"),
        sa.Column("last_fetched", sa.DateTime()),
        sa.Column("error_message", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.CheckConstraint("status IN ('active','stale','error')", name="check_projects_status"),
        if_not_exists=True,
    )
    op.create_index("idx_projects_status", "projects", ["status"], if_not_exists=True)
    op.create_index("idx_projects_last_fetched", "projects", ["last_fetched"], if_not_exists=True)

    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column(
            "project_id",
            sa.String(),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("source", sa.String()),
        sa.Column("deployed_version", sa.String()),
        sa.Column("upstream_version", sa.String()),
        sa.Column("is_outdated", sa.Boolean(), nullable=False, server_default=sa.text("0")),
        sa.Column("local_modified", sa.Boolean(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.CheckConstraint(f"type IN ({ARTIFACT_TYPES_SQL})", name="check_artifacts_type"),
        if_not_exists=True,
    )
    op.create_index("idx_artifacts_project_id", "artifacts", ["project_id"], if_not_exists=True)
    op.create_index("idx_artifacts_type", "artifacts", ["type"], if_not_exists=True)
    op.create_index("idx_artifacts_is_outdated", "artifacts", ["is_outdated"], if_not_exists=True)

    op.create_table(
        "cache_metadata",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=NOW),
        if_not_exists=True,
    )
    for table in ("projects", "artifacts"):
        op.execute(updated_at_trigger_sql(table))


def downgrade() -> None:
    for table in ("artifacts", "projects"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_updated_at")
    op.drop_table("cache_metadata")
    op.drop_table("artifacts")
    op.drop_table("projects")
