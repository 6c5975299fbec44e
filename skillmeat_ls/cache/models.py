"""SQLAlchemy models of the cache schema at head.

The Alembic history in ``migrations/versions`` builds exactly this schema; a test compares the two
(``tests/test_cache_schema.py``), so a change here needs a new revision and vice versa.

Tables by revision:

* ``0001``: ``projects``, ``artifacts``, ``cache_metadata`` (SkillMeat's base tables).
* ``0002``: ``collections``, ``groups``, ``collection_artifacts``, ``group_artifacts`` with the keys,
  cascades, checks, indexes and ``updated_at`` triggers of SkillMeat's collections migration.
  Membership ids are ``"type:name"`` strings, with no foreign key (artifacts may be external).
* ``0003``: ``collection_sources``, ``indexed_artifacts`` and ``project_deployments``, the index
  this server keeps of collections on disk and of deployment files in the workspace.
* ``0004``: ``copy_hashes`` (deployed copies' hashes by stat fingerprint),
  ``collection_snapshots`` (what reading each collection's manifest gave) and ``file_verdicts``
  (each deployment file's last diagnostics with their inputs): warm starts.
* ``0005``: ``text_verdicts`` (what the text-only rules found in the text each file was last
  opened or saved with): the first diagnostics of an opened file.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    event,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ARTIFACT_TYPES_SQL = (
    "'skill','command','agent','hook','mcp','mcp_server','project_config','spec_file',"
    "'rule_file','context_file','progress_template','workflow','composite'"
)


class Base(DeclarativeBase):
    pass


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime, nullable=False, server_default=func.current_timestamp())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime, nullable=False, server_default=func.current_timestamp())


# --- 0001: base tables ---------------------------------------------------------------------------


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    path: Mapped[str] = mapped_column(String, nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String, nullable=False, server_default="active")
    last_fetched: Mapped[datetime | None] = mapped_column(DateTime)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        CheckConstraint("status IN ('active','stale','error')", name="check_projects_status"),
        Index("idx_projects_status", "status"),
        Index("idx_projects_last_fetched", "last_fetched"),
    )


class Artifact(Base):
    __tablename__ = "artifacts"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    project_id: Mapped[str] = mapped_column(
        String, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String, nullable=False)
    source: Mapped[str | None] = mapped_column(String)
    deployed_version: Mapped[str | None] = mapped_column(String)
    upstream_version: Mapped[str | None] = mapped_column(String)
    is_outdated: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("0"))
    local_modified: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        CheckConstraint(f"type IN ({ARTIFACT_TYPES_SQL})", name="check_artifacts_type"),
        Index("idx_artifacts_project_id", "project_id"),
        Index("idx_artifacts_type", "type"),
        Index("idx_artifacts_is_outdated", "is_outdated"),
    )


class CacheMetadata(Base):
    __tablename__ = "cache_metadata"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = _updated_at()


# --- 0002: collections schema --------------------------------------------------------------------


class Collection(Base):
    __tablename__ = "collections"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String)
    collection_type: Mapped[str | None] = mapped_column(String)
    context_category: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        CheckConstraint(
            "length(name) > 0 AND length(name) <= 255", name="check_collection_name_length"
        ),
        Index("idx_collections_name", "name"),
        Index("idx_collections_created_by", "created_by"),
        Index("idx_collections_created_at", "created_at"),
        Index("idx_collections_type", "collection_type"),
    )


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    collection_id: Mapped[str] = mapped_column(
        String,
        ForeignKey("collections.id", ondelete="CASCADE", name="fk_groups_collection_id"),
        nullable=False,
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        CheckConstraint("length(name) > 0 AND length(name) <= 255", name="check_group_name_length"),
        CheckConstraint("position >= 0", name="check_group_position"),
        # A named unique index rather than a table constraint: SQLite reports unnamed table
        # constraints back, so a named index is what round-trips through reflection.
        Index("uq_group_collection_name", "collection_id", "name", unique=True),
        Index("idx_groups_collection_id", "collection_id"),
        Index("idx_groups_collection_position", "collection_id", "position"),
    )


class CollectionArtifact(Base):
    __tablename__ = "collection_artifacts"

    collection_id: Mapped[str] = mapped_column(
        String,
        ForeignKey(
            "collections.id", ondelete="CASCADE", name="fk_collection_artifacts_collection_id"
        ),
        primary_key=True,
    )
    artifact_id: Mapped[str] = mapped_column(String, primary_key=True)
    added_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )

    __table_args__ = (
        Index("idx_collection_artifacts_collection_id", "collection_id"),
        Index("idx_collection_artifacts_artifact_id", "artifact_id"),
        Index("idx_collection_artifacts_added_at", "added_at"),
    )


class GroupArtifact(Base):
    __tablename__ = "group_artifacts"

    group_id: Mapped[str] = mapped_column(
        String,
        ForeignKey("groups.id", ondelete="CASCADE", name="fk_group_artifacts_group_id"),
        primary_key=True,
    )
    artifact_id: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    added_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )

    __table_args__ = (
        CheckConstraint("position >= 0", name="check_group_artifact_position"),
        Index("idx_group_artifacts_group_id", "group_id"),
        Index("idx_group_artifacts_artifact_id", "artifact_id"),
        Index("idx_group_artifacts_group_position", "group_id", "position"),
        Index("idx_group_artifacts_added_at", "added_at"),
    )


# --- 0003: this server's index -------------------------------------------------------------------


class CollectionSource(Base):
    """Where a collection lives on disk and the fingerprint of its manifest and lock file."""

    __tablename__ = "collection_sources"

    collection_id: Mapped[str] = mapped_column(
        String,
        ForeignKey(
            "collections.id", ondelete="CASCADE", name="fk_collection_sources_collection_id"
        ),
        primary_key=True,
    )
    root_path: Mapped[str] = mapped_column(String, nullable=False)
    manifest_mtime_ns: Mapped[int | None] = mapped_column(Integer)
    manifest_size: Mapped[int | None] = mapped_column(Integer)
    lock_mtime_ns: Mapped[int | None] = mapped_column(Integer)
    lock_size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    indexed_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )

    __table_args__ = (Index("uq_collection_sources_root_path", "root_path", unique=True),)


class IndexedArtifact(Base):
    """An artifact of a collection as found on disk, with its content hash."""

    __tablename__ = "indexed_artifacts"

    collection_id: Mapped[str] = mapped_column(String, primary_key=True)
    artifact_id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String, nullable=False)
    rel_path: Mapped[str] = mapped_column(String, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    lock_hash: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String)
    indexed_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )

    __table_args__ = (
        ForeignKeyConstraint(
            ["collection_id", "artifact_id"],
            ["collection_artifacts.collection_id", "collection_artifacts.artifact_id"],
            ondelete="CASCADE",
            name="fk_indexed_artifacts_membership",
        ),
        CheckConstraint("artifact_id = type || ':' || name", name="check_indexed_artifact_id"),
        Index("idx_indexed_artifacts_type_name", "type", "name"),
    )


class ProjectDeployment(Base):
    """One record of a project's deployment file, keyed by (name, type) as SkillMeat does."""

    __tablename__ = "project_deployments"

    project_id: Mapped[str] = mapped_column(
        String,
        ForeignKey("projects.id", ondelete="CASCADE", name="fk_project_deployments_project_id"),
        primary_key=True,
    )
    artifact_type: Mapped[str] = mapped_column(String, primary_key=True)
    artifact_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    from_collection: Mapped[str | None] = mapped_column(String(255))
    artifact_path: Mapped[str | None] = mapped_column(String)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    deployed_at: Mapped[str | None] = mapped_column(String)
    indexed_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )

    __table_args__ = (Index("idx_project_deployments_collection", "from_collection"),)


# --- 0004: hashes of deployed copies -------------------------------------------------------------


class CopyHash(Base):
    """A deployed copy's content hash, valid while its stat fingerprint is unchanged."""

    __tablename__ = "copy_hashes"

    #: The copy's real path, inside the profile root ``root`` (also a real path).
    path: Mapped[str] = mapped_column(String, primary_key=True)
    root: Mapped[str] = mapped_column(String, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String, nullable=False)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    #: Why the copy is not hashed (an entry leads outside ``root``: SM133), or NULL.
    leaves: Mapped[str | None] = mapped_column(Text)
    hashed_at: Mapped[datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )

    __table_args__ = (Index("idx_copy_hashes_root", "root"),)


class CollectionSnapshot(Base):
    """What reading a collection's manifest and lock gave, restored while they are unchanged."""

    __tablename__ = "collection_snapshots"

    root_path: Mapped[str] = mapped_column(String, primary_key=True)
    #: JSON (see ``skillmeat_ls.index.manifest._snapshot``).
    content: Mapped[str] = mapped_column(Text, nullable=False)


class FileVerdict(Base):
    """A deployment file's last diagnostics with what they were computed from."""

    __tablename__ = "file_verdicts"

    path: Mapped[str] = mapped_column(String, primary_key=True)
    #: JSON (see ``skillmeat_ls.verdicts.Verdict``).
    content: Mapped[str] = mapped_column(Text, nullable=False)


# --- 0005: first looks --------------------------------------------------------------------------


class TextVerdict(Base):
    """What the rules reading only the text found in a file's last opened or saved text."""

    __tablename__ = "text_verdicts"

    path: Mapped[str] = mapped_column(String, primary_key=True)
    #: JSON (a ``skillmeat_ls.verdicts.Verdict`` that asked no questions).
    content: Mapped[str] = mapped_column(Text, nullable=False)


# --- triggers ------------------------------------------------------------------------------------

UPDATED_AT_TRIGGERS: dict[str, str] = {
    "projects": "projects_updated_at",
    "artifacts": "artifacts_updated_at",
    "collections": "collections_updated_at",
    "groups": "groups_updated_at",
}


def updated_at_trigger_sql(table: str) -> str:
    """DDL of the trigger that keeps ``table.updated_at`` current, as SkillMeat's migrations do."""
    name = UPDATED_AT_TRIGGERS[table]
    return (
        f"CREATE TRIGGER IF NOT EXISTS {name} AFTER UPDATE ON {table} FOR EACH ROW "
        f"BEGIN UPDATE {table} SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END"
    )


# ``create_all`` builds the triggers too, so a database made from the models alone matches the
# migrated one (and adopting such a database loses nothing).
for _table_name in UPDATED_AT_TRIGGERS:
    event.listen(
        Base.metadata.tables[_table_name],
        "after_create",
        DDL(updated_at_trigger_sql(_table_name)),
    )

BASE_TABLES = ("projects", "artifacts", "cache_metadata")
