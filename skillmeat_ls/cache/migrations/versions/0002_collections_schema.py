"""Collections schema: collections, groups, collection_artifacts, group_artifacts.

Revision ID: 0002_collections_schema
Revises: 0001_base_tables
Create Date: 2026-11-24

Keys, cascades, checks, indexes and ``updated_at`` triggers as in SkillMeat's
``create_collections_schema`` migration (plus its later ``collection_type``/``context_category``
columns). ``artifact_id`` holds ``"type:name"`` with no foreign key: artifacts may be external.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from skillmeat_ls.cache.models import updated_at_trigger_sql

revision = "0002_collections_schema"
down_revision = "0001_base_tables"
branch_labels = None
depends_on = None

NOW = sa.func.current_timestamp()
NAME_LENGTH = "length(name) > 0 AND length(name) <= 255"


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("created_by", sa.String()),
        sa.Column("collection_type", sa.String()),
        sa.Column("context_category", sa.String()),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.CheckConstraint(NAME_LENGTH, name="check_collection_name_length"),
        if_not_exists=True,
    )
    for column in ("name", "created_by", "created_at"):
        op.create_index(f"idx_collections_{column}", "collections", [column], if_not_exists=True)
    op.create_index("idx_collections_type", "collections", ["collection_type"], if_not_exists=True)

    op.create_table(
        "groups",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column(
            "collection_id",
            sa.String(),
            sa.ForeignKey("collections.id", ondelete="CASCADE", name="fk_groups_collection_id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.CheckConstraint(NAME_LENGTH, name="check_group_name_length"),
        sa.CheckConstraint("position >= 0", name="check_group_position"),
        if_not_exists=True,
    )
    op.create_index(
        "uq_group_collection_name",
        "groups",
        ["collection_id", "name"],
        unique=True,
        if_not_exists=True,
    )
    op.create_index("idx_groups_collection_id", "groups", ["collection_id"], if_not_exists=True)
    op.create_index(
        "idx_groups_collection_position",
        "groups",
        ["collection_id", "position"],
        if_not_exists=True,
    )

    op.create_table(
        "collection_artifacts",
        sa.Column(
            "collection_id",
            sa.String(),
            sa.ForeignKey(
                "collections.id", ondelete="CASCADE", name="fk_collection_artifacts_collection_id"
            ),
            primary_key=True,
        ),
        sa.Column("artifact_id", sa.String(), primary_key=True),
        sa.Column("added_at", sa.DateTime(), nullable=False, server_default=NOW),
        if_not_exists=True,
    )
    for column in ("collection_id", "artifact_id", "added_at"):
        op.create_index(
            f"idx_collection_artifacts_{column}",
            "collection_artifacts",
            [column],
            if_not_exists=True,
        )

    op.create_table(
        "group_artifacts",
        sa.Column(
            "group_id",
            sa.String(),
            sa.ForeignKey("groups.id", ondelete="CASCADE", name="fk_group_artifacts_group_id"),
            primary_key=True,
        ),
        sa.Column("artifact_id", sa.String(), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("added_at", sa.DateTime(), nullable=False, server_default=NOW),
        sa.CheckConstraint("position >= 0", name="check_group_artifact_position"),
        if_not_exists=True,
    )
    for column in ("group_id", "artifact_id", "added_at"):
        op.create_index(
            f"idx_group_artifacts_{column}", "group_artifacts", [column], if_not_exists=True
        )
    op.create_index(
        "idx_group_artifacts_group_position",
        "group_artifacts",
        ["group_id", "position"],
        if_not_exists=True,
    )
    for table in ("collections", "groups"):
        op.execute(updated_at_trigger_sql(table))


def downgrade() -> None:
    for table in ("groups", "collections"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_updated_at")
    op.drop_table("group_artifacts")
    op.drop_table("collection_artifacts")
    op.drop_table("groups")
    op.drop_table("collections")
