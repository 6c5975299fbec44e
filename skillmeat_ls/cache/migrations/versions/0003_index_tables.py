"""This server's index: collection_sources, indexed_artifacts, project_deployments.

Revision ID: 0003_index_tables
Revises: 0002_collections_schema
Create Date: 2026-11-24

``collection_sources`` remembers each collection's directory and the mtime/size of its manifest
and lock file, so a warm start re-reads only what changed; ``indexed_artifacts`` holds the
artifacts found on disk with their content hashes; ``project_deployments`` mirrors the records of
the workspace's deployment files, keyed by (name, type).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_index_tables"
down_revision = "0002_collections_schema"
branch_labels = None
depends_on = None

NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "collection_sources",
        sa.Column(
            "collection_id",
            sa.String(),
            sa.ForeignKey(
                "collections.id", ondelete="CASCADE", name="fk_collection_sources_collection_id"
            ),
            primary_key=True,
        ),
        sa.Column("root_path", sa.String(), nullable=False),
        sa.Column("manifest_mtime_ns", sa.Integer()),
        sa.Column("manifest_size", sa.Integer()),
        sa.Column("lock_mtime_ns", sa.Integer()),
        sa.Column("lock_size", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("indexed_at", sa.DateTime(), nullable=False, server_default=NOW),
        if_not_exists=True,
    )
    op.create_index(
        "uq_collection_sources_root_path",
        "collection_sources",
        ["root_path"],
        unique=True,
        if_not_exists=True,
    )

    op.create_table(
        "indexed_artifacts",
        sa.Column("collection_id", sa.String(), primary_key=True),
        sa.Column("artifact_id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("rel_path", sa.String(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("lock_hash", sa.String(64)),
        sa.Column("fingerprint", sa.String()),
        sa.Column("indexed_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.ForeignKeyConstraint(
            ["collection_id", "artifact_id"],
            ["collection_artifacts.collection_id", "collection_artifacts.artifact_id"],
            ondelete="CASCADE",
            name="fk_indexed_artifacts_membership",
        ),
        sa.CheckConstraint("artifact_id = type || ':' || name", name="check_indexed_artifact_id"),
        if_not_exists=True,
    )
    op.create_index(
        "idx_indexed_artifacts_type_name",
        "indexed_artifacts",
        ["type", "name"],
        if_not_exists=True,
    )

    op.create_table(
        "project_deployments",
        sa.Column(
            "project_id",
            sa.String(),
            sa.ForeignKey(
                "projects.id", ondelete="CASCADE", name="fk_project_deployments_project_id"
            ),
            primary_key=True,
        ),
        sa.Column("artifact_type", sa.String(), primary_key=True),
        sa.Column("artifact_name", sa.String(255), primary_key=True),
        sa.Column("from_collection", sa.String(255)),
        sa.Column("artifact_path", sa.String()),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("deployed_at", sa.String()),
        sa.Column("indexed_at", sa.DateTime(), nullable=False, server_default=NOW),
        if_not_exists=True,
    )
    op.create_index(
        "idx_project_deployments_collection",
        "project_deployments",
        ["from_collection"],
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("project_deployments")
    op.drop_table("indexed_artifacts")
    op.drop_table("collection_sources")
