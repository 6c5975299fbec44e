"""``skillmeat-ls doctor`` on SkillMeat's own ``cache.db``, in each state real SkillMeat code
leaves it in; ``--repair`` checked by SkillMeat 0.74.0 itself.

How each state is made (nothing here is a hand-written imitation of SkillMeat's schema):

- **0.74.0** (PyPI): ``CacheManager(path).initialize_cache()``, then user rows written through
  its own models (``skillmeat_side.py cache-build`` with ``populate``), then the state:
  ``fresh`` (healthy), ``empty-version`` (rows of ``alembic_version`` deleted),
  ``unknown-revision`` (stamped with a revision it does not know), ``no-version-table``.
- **0.9.0** (PyPI): its CLI never creates a ``cache.db`` (a home made by ``skillmeat init``:
  *missing*); its own models' ``create_tables()`` plus user rows (``cache-build-models``; the
  package's ``__init__`` is bypassed, as its wheel lacks ``skillmeat.core.parsers``) give the
  unversioned tables of a 0.9-era schema.
- **The fix commit** ``bf0f68e3`` (no PyPI release): :data:`FIX_COMMIT_DDL` is what its
  ``create_tables()`` emits, captured once by running that commit's ``skillmeat/cache/models.py``
  (``Base.metadata.create_all`` with SQLAlchemy 2.x) and reading ``sqlite_master``; its failed
  first migration then leaves Alembic's empty ``alembic_version`` table (:data:`ALEMBIC_DDL`).
  User rows go in with SQL in that schema (memberships keyed by ``"type:name"``). Variants:
  stamped ``001_initial_schema`` (what its ``run_migrations`` leaves after revision 1 committed
  and a later revision failed), no ``alembic_version`` at all, and a pending ``-wal`` (a writer
  that died before its checkpoint).
- **Not a database**: bytes that are not SQLite.

Every read-only run must leave the directory byte for byte as it was, with no sidecar.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import smreal
from conftest import installed_release
from skillmeat_side import logical_rows

pytestmark = pytest.mark.interop

#: ``Base.metadata.create_all`` of ``skillmeat/cache/models.py`` at bf0f68e3: 20 tables and
#: their indexes, as SQLite stores them.
FIX_COMMIT_DDL = """
CREATE TABLE projects (
    id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    description TEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    last_fetched DATETIME,
    status VARCHAR DEFAULT 'active' NOT NULL,
    error_message TEXT,
    PRIMARY KEY (id),
    CONSTRAINT check_project_status CHECK (status IN ('active', 'stale', 'error')),
    UNIQUE (path)
);
CREATE TABLE collections (
    id VARCHAR NOT NULL,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    created_by VARCHAR,
    collection_type VARCHAR,
    context_category VARCHAR,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT check_collection_name_length CHECK (length(name) > 0 AND length(name) <= 255)
);
CREATE INDEX idx_collections_created_by ON collections (created_by);
CREATE INDEX idx_collections_type ON collections (collection_type);
CREATE INDEX idx_collections_name ON collections (name);
CREATE INDEX idx_collections_created_at ON collections (created_at);
CREATE TABLE tags (
    id VARCHAR NOT NULL,
    name VARCHAR(100) NOT NULL,
    slug VARCHAR(100) NOT NULL,
    color VARCHAR(7),
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT check_tag_name_length CHECK (length(name) > 0 AND length(name) <= 100),
    CONSTRAINT check_tag_slug_length CHECK (length(slug) > 0 AND length(slug) <= 100),
    CONSTRAINT check_tag_color_format CHECK (color IS NULL OR (length(color) = 7 AND color LIKE '#%')),
    UNIQUE (name),
    UNIQUE (slug)
);
CREATE UNIQUE INDEX idx_tags_slug ON tags (slug);
CREATE UNIQUE INDEX idx_tags_name ON tags (name);
CREATE TABLE marketplace (
    id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    description TEXT,
    cached_at DATETIME NOT NULL,
    data TEXT,
    PRIMARY KEY (id),
    CONSTRAINT check_marketplace_type CHECK (type IN ('skill', 'command', 'agent', 'mcp', 'mcp_server', 'hook', 'project_config', 'spec_file', 'rule_file', 'context_file', 'progress_template'))
);
CREATE TABLE marketplace_sources (
    id VARCHAR NOT NULL,
    repo_url VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    repo_name VARCHAR NOT NULL,
    ref VARCHAR DEFAULT 'main' NOT NULL,
    root_hint VARCHAR,
    description VARCHAR(500),
    notes VARCHAR(2000),
    manual_map TEXT,
    access_token_id VARCHAR,
    trust_level VARCHAR DEFAULT 'basic' NOT NULL,
    visibility VARCHAR DEFAULT 'public' NOT NULL,
    enable_frontmatter_detection BOOLEAN DEFAULT 'false' NOT NULL,
    path_tag_config TEXT,
    last_sync_at DATETIME,
    last_error TEXT,
    scan_status VARCHAR DEFAULT 'pending' NOT NULL,
    artifact_count INTEGER DEFAULT '0' NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT check_trust_level CHECK (trust_level IN ('untrusted', 'basic', 'verified', 'official')),
    CONSTRAINT check_visibility CHECK (visibility IN ('private', 'internal', 'public')),
    CONSTRAINT check_scan_status CHECK (scan_status IN ('pending', 'scanning', 'success', 'error')),
    UNIQUE (repo_url)
);
CREATE TABLE user_ratings (
    id INTEGER NOT NULL,
    artifact_id VARCHAR NOT NULL,
    rating INTEGER NOT NULL,
    feedback TEXT,
    share_with_community BOOLEAN DEFAULT '0' NOT NULL,
    rated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT check_valid_rating CHECK (rating >= 1 AND rating <= 5)
);
CREATE INDEX idx_user_ratings_artifact_id_rated_at ON user_ratings (artifact_id, rated_at);
CREATE INDEX ix_user_ratings_artifact_id ON user_ratings (artifact_id);
CREATE INDEX idx_user_ratings_artifact_id ON user_ratings (artifact_id);
CREATE TABLE community_scores (
    id INTEGER NOT NULL,
    artifact_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    score FLOAT NOT NULL,
    last_updated DATETIME NOT NULL,
    imported_from VARCHAR,
    PRIMARY KEY (id),
    CONSTRAINT uq_community_score UNIQUE (artifact_id, source)
);
CREATE INDEX idx_community_scores_artifact_id ON community_scores (artifact_id);
CREATE TABLE match_history (
    id INTEGER NOT NULL,
    "query" VARCHAR NOT NULL,
    artifact_id VARCHAR NOT NULL,
    confidence FLOAT NOT NULL,
    user_confirmed BOOLEAN,
    matched_at DATETIME NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX idx_match_history_artifact_query ON match_history (artifact_id, "query");
CREATE TABLE github_repo_cache (
    cache_key VARCHAR NOT NULL,
    data TEXT NOT NULL,
    fetched_at DATETIME NOT NULL,
    PRIMARY KEY (cache_key)
);
CREATE INDEX idx_github_repo_cache_fetched_at ON github_repo_cache (fetched_at);
CREATE TABLE cache_metadata (
    "key" VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY ("key")
);
CREATE TABLE artifacts (
    id VARCHAR NOT NULL,
    project_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    source VARCHAR,
    deployed_version VARCHAR,
    upstream_version VARCHAR,
    is_outdated BOOLEAN DEFAULT '0' NOT NULL,
    local_modified BOOLEAN DEFAULT '0' NOT NULL,
    path_pattern TEXT,
    auto_load BOOLEAN DEFAULT '0' NOT NULL,
    category TEXT,
    content_hash TEXT,
    content TEXT,
    description TEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT check_artifact_type CHECK (type IN ('skill', 'command', 'agent', 'mcp', 'mcp_server', 'hook', 'project_config', 'spec_file', 'rule_file', 'context_file', 'progress_template')),
    FOREIGN KEY(project_id) REFERENCES projects (id) ON DELETE CASCADE
);
CREATE TABLE groups (
    id VARCHAR NOT NULL,
    collection_id VARCHAR NOT NULL,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    position INTEGER DEFAULT '0' NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT uq_group_collection_name UNIQUE (collection_id, name),
    CONSTRAINT check_group_name_length CHECK (length(name) > 0 AND length(name) <= 255),
    CONSTRAINT check_group_position CHECK (position >= 0),
    FOREIGN KEY(collection_id) REFERENCES collections (id) ON DELETE CASCADE
);
CREATE INDEX idx_groups_collection_id ON groups (collection_id);
CREATE INDEX idx_groups_collection_position ON groups (collection_id, position);
CREATE TABLE collection_artifacts (
    collection_id VARCHAR NOT NULL,
    artifact_id VARCHAR NOT NULL,
    added_at DATETIME NOT NULL,
    PRIMARY KEY (collection_id, artifact_id),
    FOREIGN KEY(collection_id) REFERENCES collections (id) ON DELETE CASCADE
);
CREATE INDEX idx_collection_artifacts_artifact_id ON collection_artifacts (artifact_id);
CREATE INDEX idx_collection_artifacts_collection_id ON collection_artifacts (collection_id);
CREATE INDEX idx_collection_artifacts_added_at ON collection_artifacts (added_at);
CREATE TABLE marketplace_catalog_entries (
    id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    artifact_type VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    upstream_url VARCHAR NOT NULL,
    detected_version VARCHAR,
    detected_sha VARCHAR,
    detected_at DATETIME NOT NULL,
    confidence_score INTEGER NOT NULL,
    raw_score INTEGER,
    score_breakdown JSON,
    status VARCHAR DEFAULT 'new' NOT NULL,
    import_date DATETIME,
    import_id VARCHAR,
    excluded_at DATETIME,
    excluded_reason TEXT,
    path_segments TEXT,
    metadata_json TEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT check_catalog_artifact_type CHECK (artifact_type IN ('skill', 'command', 'agent', 'mcp', 'mcp_server', 'hook', 'project_config', 'spec_file', 'rule_file', 'context_file', 'progress_template')),
    CONSTRAINT check_catalog_status CHECK (status IN ('new', 'updated', 'removed', 'imported', 'excluded')),
    CONSTRAINT check_confidence_score CHECK (confidence_score >= 0 AND confidence_score <= 100),
    FOREIGN KEY(source_id) REFERENCES marketplace_sources (id) ON DELETE CASCADE
);
CREATE TABLE artifact_metadata (
    artifact_id VARCHAR NOT NULL,
    metadata TEXT,
    description TEXT,
    tags TEXT,
    aliases TEXT,
    PRIMARY KEY (artifact_id),
    FOREIGN KEY(artifact_id) REFERENCES artifacts (id) ON DELETE CASCADE
);
CREATE TABLE artifact_versions (
    id VARCHAR NOT NULL,
    artifact_id VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    parent_hash VARCHAR,
    change_origin VARCHAR NOT NULL,
    version_lineage TEXT,
    created_at DATETIME NOT NULL,
    metadata TEXT,
    PRIMARY KEY (id),
    CONSTRAINT check_artifact_versions_change_origin CHECK (change_origin IN ('deployment', 'sync', 'local_modification')),
    FOREIGN KEY(artifact_id) REFERENCES artifacts (id) ON DELETE CASCADE,
    UNIQUE (content_hash)
);
CREATE INDEX idx_artifact_versions_change_origin ON artifact_versions (change_origin);
CREATE INDEX idx_artifact_versions_artifact_id ON artifact_versions (artifact_id);
CREATE UNIQUE INDEX idx_artifact_versions_content_hash ON artifact_versions (content_hash);
CREATE INDEX idx_artifact_versions_artifact_created ON artifact_versions (artifact_id, created_at);
CREATE INDEX idx_artifact_versions_parent_hash ON artifact_versions (parent_hash);
CREATE TABLE group_artifacts (
    group_id VARCHAR NOT NULL,
    artifact_id VARCHAR NOT NULL,
    position INTEGER DEFAULT '0' NOT NULL,
    added_at DATETIME NOT NULL,
    PRIMARY KEY (group_id, artifact_id),
    CONSTRAINT check_group_artifact_position CHECK (position >= 0),
    FOREIGN KEY(group_id) REFERENCES groups (id) ON DELETE CASCADE
);
CREATE INDEX idx_group_artifacts_added_at ON group_artifacts (added_at);
CREATE INDEX idx_group_artifacts_artifact_id ON group_artifacts (artifact_id);
CREATE INDEX idx_group_artifacts_group_id ON group_artifacts (group_id);
CREATE INDEX idx_group_artifacts_group_position ON group_artifacts (group_id, position);
CREATE TABLE artifact_tags (
    artifact_id VARCHAR NOT NULL,
    tag_id VARCHAR NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (artifact_id, tag_id),
    FOREIGN KEY(artifact_id) REFERENCES artifacts (id) ON DELETE CASCADE,
    FOREIGN KEY(tag_id) REFERENCES tags (id) ON DELETE CASCADE
);
CREATE INDEX idx_artifact_tags_created_at ON artifact_tags (created_at);
CREATE INDEX idx_artifact_tags_tag_id ON artifact_tags (tag_id);
CREATE INDEX idx_artifact_tags_artifact_id ON artifact_tags (artifact_id);
CREATE TABLE project_templates (
    id VARCHAR NOT NULL,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    collection_id VARCHAR NOT NULL,
    default_project_config_id VARCHAR,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT check_template_name_length CHECK (length(name) > 0 AND length(name) <= 255),
    UNIQUE (name),
    FOREIGN KEY(collection_id) REFERENCES collections (id) ON DELETE CASCADE,
    FOREIGN KEY(default_project_config_id) REFERENCES artifacts (id) ON DELETE SET NULL
);
CREATE INDEX idx_templates_collection_id ON project_templates (collection_id);
CREATE INDEX idx_templates_created_at ON project_templates (created_at);
CREATE UNIQUE INDEX idx_templates_name ON project_templates (name);
CREATE TABLE template_entities (
    template_id VARCHAR NOT NULL,
    artifact_id VARCHAR NOT NULL,
    deploy_order INTEGER NOT NULL,
    required BOOLEAN DEFAULT '1' NOT NULL,
    PRIMARY KEY (template_id, artifact_id),
    CONSTRAINT check_deploy_order CHECK (deploy_order >= 0),
    FOREIGN KEY(template_id) REFERENCES project_templates (id) ON DELETE CASCADE,
    FOREIGN KEY(artifact_id) REFERENCES artifacts (id) ON DELETE CASCADE
);
CREATE INDEX idx_template_entities_template_id ON template_entities (template_id);
CREATE INDEX idx_template_entities_deploy_order ON template_entities (template_id, deploy_order);
CREATE INDEX idx_template_entities_artifact_id ON template_entities (artifact_id);
"""  # noqa: E501

ALEMBIC_DDL = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));"
)

_NOW = "2026-01-12 09:00:00.000000"
#: The user's rows at the fix commit: memberships keyed by "type:name"; "agent:helper" is in a
#: collection but was never deployed (no ``artifacts`` row: SkillMeat's own uuid migration of
#: February 2026 dropped such memberships).
FIX_ROWS = [
    ("INSERT INTO projects VALUES ('p1', 'proj', '/tmp/doctor-proj', NULL, ?, ?, NULL, 'active', "
     "NULL)", (_NOW, _NOW)),
    ("INSERT INTO artifacts (id, project_id, name, type, is_outdated, local_modified, auto_load, "
     "created_at, updated_at) VALUES ('skill:review', 'p1', 'review', 'skill', 0, 0, 0, ?, ?)",
     (_NOW, _NOW)),
    ("INSERT INTO collections VALUES ('c-default', 'default', 'Default', NULL, NULL, NULL, ?, ?)",
     (_NOW, _NOW)),
    ("INSERT INTO collections VALUES ('c-team', 'team', NULL, NULL, NULL, NULL, ?, ?)",
     (_NOW, _NOW)),
    ("INSERT INTO groups VALUES ('g1', 'c-default', 'Reviewers', 'r', 0, ?, ?)", (_NOW, _NOW)),
    ("INSERT INTO groups VALUES ('g2', 'c-default', 'Planners', NULL, 1, ?, ?)", (_NOW, _NOW)),
    ("INSERT INTO collection_artifacts VALUES ('c-default', 'skill:review', ?)", (_NOW,)),
    ("INSERT INTO collection_artifacts VALUES ('c-default', 'command:review', ?)", (_NOW,)),
    ("INSERT INTO collection_artifacts VALUES ('c-team', 'agent:helper', ?)", (_NOW,)),
    ("INSERT INTO group_artifacts VALUES ('g1', 'skill:review', 0, ?)", (_NOW,)),
    ("INSERT INTO group_artifacts VALUES ('g1', 'agent:helper', 1, ?)", (_NOW,)),
    ("INSERT INTO tags VALUES ('t1', 'Code Review', 'code-review', '#ff0000', ?, ?)",
     (_NOW, _NOW)),
    ("INSERT INTO artifact_tags VALUES ('skill:review', 't1', ?)", (_NOW,)),
    ("INSERT INTO user_ratings VALUES (1, 'skill:review', 5, 'great', 0, ?)", (_NOW,)),
]  # fmt: skip

#: Rows a writer committed to the -wal and then died, before any checkpoint.
_DYING_WRITER = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA wal_autocheckpoint=0")
now = "2026-01-13 10:00:00.000000"
conn.execute("INSERT INTO groups VALUES ('g3', 'c-team', 'Late', NULL, 0, ?, ?)", (now, now))
conn.execute("INSERT INTO group_artifacts VALUES ('g3', 'command:review', 0, ?)", (now,))
conn.commit()
os._exit(0)
"""


def make_fix_state(path: Path, stamp: str | None, *, pending_wal: bool = False) -> None:
    """The fix commit's cache: its create_tables(), then ``stamp`` ("" = the empty
    alembic_version its failed migration leaves; None = no alembic_version table)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # every SkillMeat connection sets it
        conn.executescript(FIX_COMMIT_DDL)
        if stamp is not None:
            conn.executescript(ALEMBIC_DDL)
            if stamp:
                conn.execute("INSERT INTO alembic_version VALUES (?)", (stamp,))
        for sql, values in FIX_ROWS:
            conn.execute(sql, values)
        conn.commit()
    finally:
        conn.close()
    if pending_wal:
        subprocess.run([sys.executable, "-c", _DYING_WRITER, str(path)], check=True)
        assert path.with_name(path.name + "-wal").stat().st_size > 0


def snapshot(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())
    }


def cache_of(home: Path) -> Path:
    return home / "cache" / "cache.db"


def control_rows(cache_dir: Path, scratch: Path) -> dict[str, Any]:
    """The user rows a reader of ``cache_dir/cache.db`` sees (its -wal included), read from a
    copy of the directory."""
    shutil.copytree(cache_dir, scratch)
    return logical_rows(str(scratch / "cache.db"))


class Env:
    """skillmeat-ls runs with a HOME of its own and a PATH without SkillMeat unless asked."""

    def __init__(self, root: Path) -> None:
        self.home = root / "user-home"
        self.home.mkdir(parents=True, exist_ok=True)

    def run(
        self, smhome: Path, *args: str, path: str = "/usr/bin:/bin", **extra: str
    ) -> tuple[int, dict[str, Any], str]:
        env = smreal.ls_env()
        env.update(HOME=str(self.home), PATH=path, **extra)
        argv = [*smreal.skillmeat_ls_argv(), "doctor", "--home", str(smhome), "--format", "json",
                *args]  # fmt: skip
        result = subprocess.run(
            argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=600
        )
        assert "Traceback" not in result.stderr, result.stderr
        try:
            report = json.loads(result.stdout)
        except ValueError:
            report = {}
        return result.returncode, report, result.stderr


# --- the states ---------------------------------------------------------------------------------

#: state -> (doctor's state, verdict, exit code)
EXPECTED = {
    "0.74.0-fresh": ("healthy", "healthy", 0),
    "0.74.0-empty-version": ("empty-alembic-version", "broken", 1),
    "0.74.0-unknown-revision": ("unknown-revision", "heals-itself", 0),
    "0.74.0-no-version-table": ("unversioned", "heals-itself", 0),
    "0.9.0-models": ("unversioned", "broken", 1),
    "0.9.0-home": ("missing", "healthy", 0),
    "fix": ("empty-alembic-version", "broken", 1),
    "fix-stamped-001": ("unknown-revision", "broken", 1),
    "fix-no-version-table": ("unversioned", "broken", 1),
    "fix-pending-wal": ("empty-alembic-version", "broken", 1),
    "not-a-database": ("not-a-database", "broken", 1),
}
REPAIRED = ("0.74.0-empty-version", "0.9.0-models", "fix", "fix-stamped-001",
            "fix-pending-wal", "not-a-database")  # fmt: skip


@pytest.fixture(scope="module")
def sm74() -> smreal.Installed:
    return installed_release("0.74.0")


@pytest.fixture(scope="module")
def sm90() -> smreal.Installed:
    return installed_release("0.9.0")


@pytest.fixture(scope="module")
def states(
    sm74: smreal.Installed, sm90: smreal.Installed, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Every state twice (one for the read-only runs, one to repair), with its control rows,
    and the doctor's read-only report of each."""
    started = time.monotonic()
    root = tmp_path_factory.mktemp("doctor")
    built = root / "built"
    homes = {name: built / name for name in EXPECTED}
    side = smreal.SkillMeat(sm74, root / "sm74-home")
    side.home.mkdir()
    side.py("cache-build", {
        "populate": True,
        "states": {s: str(cache_of(homes[f"0.74.0-{s}"])) for s in
                   ("fresh", "empty-version", "unknown-revision", "no-version-table")},
    })  # fmt: skip
    old = smreal.SkillMeat(sm90, root / "sm90-home")
    old.home.mkdir()
    made = old.py("cache-build-models", {"path": str(cache_of(homes["0.9.0-models"]))})
    assert made == {"tables": 43, "alembic_version": None}, made
    old.cli(*sm90.release.init_args, cwd=old.home)  # 0.9.0's own home: no cache.db in it
    assert not cache_of(old.smhome).exists()
    shutil.copytree(old.smhome, homes["0.9.0-home"])
    make_fix_state(cache_of(homes["fix"]), "")
    make_fix_state(cache_of(homes["fix-stamped-001"]), "001_initial_schema")
    make_fix_state(cache_of(homes["fix-no-version-table"]), None)
    make_fix_state(cache_of(homes["fix-pending-wal"]), "", pending_wal=True)
    cache_of(homes["not-a-database"]).parent.mkdir(parents=True)
    cache_of(homes["not-a-database"]).write_bytes(b"SkillMeat cache\n" * 512)
    for name in EXPECTED:
        shutil.copytree(homes[name], root / "ro" / name, symlinks=True)
        shutil.copytree(homes[name], root / "repair" / name, symlinks=True)
    control = {
        name: control_rows(homes[name] / "cache", root / "control" / name)
        for name in EXPECTED
        if cache_of(homes[name]).exists() and name != "not-a-database"
    }
    build_seconds = time.monotonic() - started

    env = Env(root)

    def read_only(name: str) -> dict[str, Any]:
        home = root / "ro" / name
        before = snapshot(home / "cache") if (home / "cache").exists() else {}
        # the three ways to find SkillMeat: PATH (shebang), the variable, --skillmeat
        if name == "0.74.0-fresh":
            run = env.run(home, path=f"{sm74.venv / 'bin'}:/usr/bin:/bin")
        elif name == "0.74.0-unknown-revision":
            run = env.run(home, SKILLMEAT_LS_SKILLMEAT=str(sm74.python))
        else:
            run = env.run(home, "--skillmeat", str(sm74.exe))
        after = snapshot(home / "cache") if (home / "cache").exists() else {}
        return {"run": run, "before": before, "after": after}

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=3) as pool:
        reports = dict(zip(EXPECTED, pool.map(read_only, EXPECTED), strict=True))
    read_seconds = time.monotonic() - started
    return {
        "root": root, "env": env, "control": control, "reports": reports, "sm74": sm74,
        "seconds": {"build": build_seconds, "read-only": read_seconds},
    }  # fmt: skip


@pytest.fixture(scope="module")
def repairs(states: dict[str, Any]) -> dict[str, Any]:
    root: Path = states["root"]
    env: Env = states["env"]
    sm74: smreal.Installed = states["sm74"]

    def one(name: str) -> dict[str, Any]:
        home = root / "repair" / name
        before = snapshot(home / "cache")
        originals = {n: (home / "cache" / n).read_bytes() for n in before}
        run = env.run(home, "--repair", "--skillmeat", str(sm74.exe))
        return {"run": run, "originals": originals, "after": snapshot(home / "cache")}

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(REPAIRED, pool.map(one, REPAIRED), strict=True))
    reader = smreal.SkillMeat(sm74, root / "reader-home")
    reader.home.mkdir()
    for name in REPAIRED:  # SkillMeat 0.74.0 opens each result, in a process of its own
        done[name]["read"] = reader.py("cache-read", {"path": str(cache_of(root / "repair" / name))})
    states["seconds"]["repair"] = time.monotonic() - started
    return done


# --- read-only ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXPECTED))
def test_doctor_names_the_state(states: dict[str, Any], name: str) -> None:
    state, verdict, code = EXPECTED[name]
    got = states["reports"][name]
    returncode, report, stderr = got["run"]
    assert (report.get("state"), report.get("verdict"), returncode) == (state, verdict, code), (
        f"{name}: {json.dumps(report, indent=1)[:3000]}\n{stderr}"
    )
    assert report["skillmeat"]["version"] == "0.74.0", report["skillmeat_problem"]
    if name in states["control"]:
        expected = {t: len(rows) for t, rows in states["control"][name].items()}
        assert report["rows"] == expected


@pytest.mark.parametrize("name", list(EXPECTED))
def test_doctor_changes_no_byte_and_makes_no_sidecar(states: dict[str, Any], name: str) -> None:
    got = states["reports"][name]
    assert got["after"] == got["before"]


def test_what_skillmeat_will_do_is_said(states: dict[str, Any]) -> None:
    reports = {name: got["run"][1] for name, got in states["reports"].items()}
    # the fix's state: 0.74.0 replays its migrations onto existing tables, on every start
    assert "already exists" in reports["fix"]["next_start"]
    assert "every start" in reports["fix"]["next_start"]
    assert reports["fix"]["rehearsal"]["runs"][1]["ok"] is False
    # unknown revision: re-stamped, then the first query fails on a missing column
    stamped = reports["fix-stamped-001"]
    assert stamped["rehearsal"]["runs"][0]["ok"] is True
    assert "no such column" in stamped["next_start"]
    assert "collections" in stamped["missing_columns"]
    assert "artifact_uuid" in stamped["missing_columns"]["collection_artifacts"]
    assert "Schema drift" in reports["fix-no-version-table"]["next_start"]
    assert "Schema drift" in reports["0.9.0-models"]["next_start"]
    assert reports["0.74.0-fresh"]["skillmeat"]["via"].startswith("PATH")
    assert reports["0.74.0-unknown-revision"]["skillmeat"]["via"].startswith(
        "$SKILLMEAT_LS_SKILLMEAT"
    )
    assert reports["fix-pending-wal"]["rows"]["groups"] == 3  # the -wal's rows count


def test_without_skillmeat_the_structure_is_still_named(states: dict[str, Any]) -> None:
    env: Env = states["env"]
    root: Path = states["root"]
    home = root / "ro" / "fix"
    before = snapshot(home / "cache")
    code, report, _ = env.run(home)
    assert (report["state"], report["verdict"], code) == ("empty-alembic-version", "broken", 1)
    assert report["skillmeat"] is None and "no `skillmeat` on PATH" in report["skillmeat_problem"]
    assert report["needs_skillmeat"], report
    code, report, _ = env.run(root / "ro" / "0.74.0-fresh")
    assert (report["state"], code) == ("stamped", 0)
    assert "0.74.0's head" in report["state_text"]
    code, report, stderr = env.run(home, "--repair")
    assert code == 2 and "--repair needs the real SkillMeat" in stderr
    assert snapshot(home / "cache") == before
    # a revision of the history SkillMeat squashed in March 2026, on the old schema
    code, report, _ = env.run(root / "ro" / "fix-stamped-001")
    assert (report["state"], report["verdict"], code) == ("unknown-revision", "broken", 1)
    # 0.9.0's tables: whether SkillMeat's drift check accepts them needs SkillMeat
    code, report, _ = env.run(root / "ro" / "0.9.0-models")
    assert (report["state"], report["verdict"], code) == ("unversioned", "unknown", 2)


def test_a_skillmeat_whose_cache_does_not_import_is_named(
    states: dict[str, Any], sm90: smreal.Installed
) -> None:
    home = states["root"] / "ro" / "fix"
    code, _, stderr = states["env"].run(home, "--skillmeat", str(sm90.exe))
    assert code == 2 and "skillmeat.core.parsers" in stderr, stderr


def test_skillmeat_made_no_home_of_its_own(states: dict[str, Any]) -> None:
    """SkillMeat's code ran on private copies and temporary files only: no ~/.skillmeat."""
    assert not (states["env"].home / ".skillmeat").exists()


def test_text_report_names_state_rows_and_advice(states: dict[str, Any]) -> None:
    env = states["env"]
    home = states["root"] / "ro" / "fix"
    result = subprocess.run(
        [*smreal.skillmeat_ls_argv(), "doctor", "--home", str(home), "--skillmeat",
         str(states["sm74"].exe)],
        capture_output=True, text=True, timeout=600,
        env={**smreal.ls_env(), "HOME": str(env.home), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    text = result.stdout
    assert "an empty alembic_version table" in text
    assert "collections 2; groups 2; memberships 5" in text
    assert "doctor --repair" in text and "would lose them" in text


# --- repair ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REPAIRED)
def test_repair_gives_a_cache_skillmeat_opens(repairs: dict[str, Any], name: str) -> None:
    code, report, stderr = repairs[name]["run"]
    assert code == 0, f"{stderr}\n{json.dumps(report, indent=1)[:4000]}"
    assert (report["state"], report["verdict"]) == ("healthy", "healthy")
    read = repairs[name]["read"]
    assert read["initialized"] is True
    assert read["failing"] == {}
    assert read["alembic_version"] == ["20260801_0001_rls_tenant_guc_repoint_compound"]
    assert read["tables"] == 109


@pytest.mark.parametrize("name", REPAIRED)
def test_repair_keeps_every_user_row(states: dict[str, Any], repairs: dict[str, Any],
                                     name: str) -> None:  # fmt: skip
    after = repairs[name]["read"]["rows"]
    if name == "not-a-database":
        assert all(rows == [] for rows in after.values())
        return
    assert after == states["control"][name]
    repair = repairs[name]["run"][1]["repair"]
    assert repair["after"] == {t: len(r) for t, r in states["control"][name].items()}


@pytest.mark.parametrize("name", REPAIRED)
def test_repair_keeps_a_byte_identical_backup(repairs: dict[str, Any], name: str) -> None:
    report = repairs[name]["run"][1]
    originals: dict[str, bytes] = repairs[name]["originals"]
    backups = [Path(p) for p in report["repair"]["backup"]]
    main = backups[0]
    assert main.name.startswith("cache.db.bak-")
    for original, data in originals.items():
        if original.endswith("-shm"):
            continue  # SQLite's index of the -wal: copied, but not part of the database
        copy = main.with_name(main.name + original[len("cache.db"):])
        assert copy.read_bytes() == data, copy
    listed = sorted(repairs[name]["after"])
    assert listed == sorted(["cache.db", *(p.name for p in backups)]), listed


def test_membership_of_an_undeployed_artifact_survives(repairs: dict[str, Any]) -> None:
    """SkillMeat's own uuid migration drops a membership whose artifact has no row; the repair
    adds the row the way SkillMeat's import does, and keeps it."""
    repair = repairs["fix"]["run"][1]["repair"]
    assert repair["identity_rows"] == 2  # command:review and agent:helper
    assert ["c-team", "agent:helper"] in repairs["fix"]["read"]["rows"]["collection_artifacts"]


def test_repair_of_a_healthy_cache_changes_nothing(states: dict[str, Any]) -> None:
    home = states["root"] / "ro" / "0.74.0-fresh"
    before = snapshot(home / "cache")
    code, report, _ = states["env"].run(home, "--repair", "--skillmeat", str(states["sm74"].exe))
    assert (code, report["state"], report["repair"]) == (0, "healthy", None)
    assert snapshot(home / "cache") == before


def test_timings(states: dict[str, Any], repairs: dict[str, Any]) -> None:
    """Not an assertion on speed: the figures, printed with ``-s`` or on failure."""
    print("doctor suite seconds:", {k: round(v, 1) for k, v in states["seconds"].items()})
