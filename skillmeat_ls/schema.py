"""Facts about SkillMeat's formats that every part of skillmeat-ls shares.

Artifact types, where each type lives inside ``.claude/`` and inside a collection, the keys of both
deployment-file schemas and the order SkillMeat writes them in. Nothing here does I/O.
"""

from __future__ import annotations

import difflib
import re

DEPLOYED_FILE_NAME = ".skillmeat-deployed.toml"  # the only name SkillMeat reads and writes
PLAN_FILE_NAME = "deployment.toml"  # the remediation plan's name; SkillMeat never reads it
DEPLOYMENT_FILE_NAMES = (DEPLOYED_FILE_NAME, PLAN_FILE_NAME)
CLAUDE_DIR = ".claude"

#: Where each vocabulary fact comes from: "0.74.0" is the current release, read from its package
#: (``skillmeat/core/artifact_detection.py``, ``core/enums.py``); older facts hold since 0.9.1.
VOCABULARY_RELEASE = "0.74.0"

#: Types with a deploy folder in some profile (``DEFAULT_ARTIFACT_PATH_MAP``, 0.74.0).
DEPLOYABLE_TYPES = ("skill", "command", "agent", "hook", "mcp", "orchestration")
CONTEXT_TYPES = ("project_config", "spec_file", "rule_file", "context_file", "progress_template")
#: ``ArtifactType`` values with no deploy folder: 0.9.1 added ``workflow`` and ``composite``,
#: 0.74.0 the rest (tier composites, review types, ``soul``).
NEWER_TYPES = (
    "workflow",
    "composite",
    "context_module",
    "template",
    "group",
    "deployment_set",
    "context_pack",
    "bundle",
    "reviewer_role",
    "council",
    "soul",
)
OLD_SPELLINGS = {"mcp_server": "mcp"}
KNOWN_TYPES = frozenset((*DEPLOYABLE_TYPES, *CONTEXT_TYPES, *NEWER_TYPES, *OLD_SPELLINGS))
#: Types deployed as ``<folder>/<name>`` (a folder, or a file that keeps its own suffix); every
#: other deployable type is ``<folder>/<name>.md`` (``resolve_artifact_path``, 0.74.0).
NAME_AS_IS_TYPES = frozenset({"skill", "mcp", "mcp_server", "orchestration"})

#: type -> (folder under ``.claude/``, whether the artifact is a directory)
TYPE_LAYOUT: dict[str, tuple[str, bool]] = {
    "skill": ("skills", True),
    "command": ("commands", False),
    "agent": ("agents", False),
    "hook": ("hooks", False),
    "mcp": ("mcp", True),
    "mcp_server": ("mcp", True),
    "orchestration": ("workflows", False),
    "spec_file": ("specs", False),
    "rule_file": ("rules", False),
    "context_file": ("context", False),
    "progress_template": ("progress", False),
}

#: Folder aliases SkillMeat's detection accepts for each type (case-insensitive), canonical first.
TYPE_FOLDER_ALIASES: dict[str, tuple[str, ...]] = {
    "skill": ("skills", "skill", "claude-skills"),
    "command": ("commands", "command", "claude-commands"),
    "agent": ("agents", "agent", "subagents", "claude-agents"),
    "hook": ("hooks", "hook", "claude-hooks"),
    "mcp": ("mcp", "mcp-servers", "servers", "mcp_servers", "claude-mcp"),
}

#: Unified record keys in the order SkillMeat's ``Deployment.to_dict`` writes them.
UNIFIED_KEY_ORDER = (
    "artifact_name",
    "artifact_type",
    "from_collection",
    "deployed_at",
    "artifact_path",
    "content_hash",
    "local_modifications",
    "parent_hash",
    "version_lineage",
    "last_modified_check",
    "modification_detected_at",
    "merge_base_snapshot",
    "deployment_profile_id",
    "platform",
    "profile_root_dir",
    "artifact_uuid",
    "branch_name",  # 0.74.0
    "collection_sha",
)
UNIFIED_REQUIRED = (
    "artifact_name",
    "artifact_type",
    "from_collection",
    "deployed_at",
    "artifact_path",
    "content_hash",
)
#: ``Platform`` values (``core/enums.py``); ``bob`` is new in 0.74.0.
PLATFORMS = ("claude_code", "codex", "gemini", "cursor", "bob", "remote_git", "other")
#: Platforms older releases reject (their ``Platform(value)`` raises).
PLATFORMS_SINCE = {"bob": "0.74.0"}

LEGACY_HEADER_KEYS = ("collection", "deployed-at", "skillmeat-version")
LEGACY_RECORD_KEYS = ("name", "type", "source", "version", "sha", "deployed-at", "deployed-from")
#: legacy record key -> the unified key with the same meaning
LEGACY_TO_UNIFIED = {
    "name": "artifact_name",
    "type": "artifact_type",
    "sha": "content_hash",
    "deployed-at": "deployed_at",
}

HASH_RE = re.compile(r"[0-9a-f]{64}")
UUID_HEX_RE = re.compile(r"[0-9a-f]{32}")


def canonical_type(artifact_type: str) -> str:
    return OLD_SPELLINGS.get(artifact_type, artifact_type)


def conventional_path(name: str, artifact_type: str) -> str | None:
    """``artifact_path`` as SkillMeat's ``resolve_artifact_path`` derives it in the default
    layout, or None if it cannot (profiles may map folders differently: see ``profiles``)."""
    layout = TYPE_LAYOUT.get(artifact_type)
    if layout is None or artifact_type not in (*DEPLOYABLE_TYPES, "mcp_server"):
        return None
    return artifact_path_in(layout[0], name, artifact_type)


def artifact_path_in(folder: str, name: str, artifact_type: str) -> str:
    """``<folder>/<name>`` or ``<folder>/<name>.md``, as SkillMeat names a deployed copy."""
    return f"{folder}/{name}" if artifact_type in NAME_AS_IS_TYPES else f"{folder}/{name}.md"


#: Suffixes SkillMeat's ``_normalize_artifact_name`` drops (one, the first that matches).
NAME_SUFFIXES = (".md", ".txt", ".json", ".yaml", ".yml")


def normalize_name(name: str) -> str:
    """A name as SkillMeat compares it: one trailing ``.md``/``.txt``/``.json``/``.yaml``/``.yml``
    is not part of the identity (``review.md`` is ``review``)."""
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


#: A record's identity inside one profile's deployment file: (normalised name, canonical type).
Identity = tuple[str, str]


def identity(name: str, artifact_type: str) -> Identity:
    """The identity SkillMeat matches records by: ``review.md`` is ``review``, and a type's old
    spelling is its current one (``mcp_server`` is ``mcp``)."""
    return (normalize_name(name), canonical_type(artifact_type))


def suggest_type(value: str) -> str | None:
    """The known type closest to a misspelt one (``skills`` -> ``skill``), if any is close."""
    lowered = value.strip().lower()
    for artifact_type, aliases in TYPE_FOLDER_ALIASES.items():
        if lowered in aliases:
            return artifact_type
    if lowered in KNOWN_TYPES:
        return lowered
    matches = difflib.get_close_matches(lowered, sorted(KNOWN_TYPES), n=1, cutoff=0.6)
    return matches[0] if matches else None


_SEPARATORS = re.compile(r"[\\/]+")
#: The collection the legacy reader assumed when neither the record nor the header names one.
DEFAULT_COLLECTION = "default"


def collection_from_path(value: object) -> str | None:
    """``NAME`` from ``.../collections/NAME[/...]`` (the legacy writer's ``deployed-from``)."""
    if not isinstance(value, str):
        return None
    parts = [part for part in _SEPARATORS.split(value) if part]
    for position in range(len(parts) - 2, -1, -1):
        if parts[position] == "collections":
            name = parts[position + 1]
            return name if is_safe_name(name) else None
    return None


def is_safe_name(name: str) -> bool:
    """SkillMeat's artifact-name rule: non-empty, no ``/``, ``\\``, ``..`` or NUL, no leading dot."""
    return bool(name) and not (
        "/" in name or "\\" in name or ".." in name or "\x00" in name or name.startswith(".")
    )


#: Optional unified keys SkillMeat writes only when their value is truthy (``artifact_uuid`` and
#: ``branch_name`` are written whenever they are set, even empty).
UNIFIED_OMIT_WHEN_FALSY = tuple(
    key
    for key in UNIFIED_KEY_ORDER[UNIFIED_KEY_ORDER.index("local_modifications") + 1 : -1]
    if key not in ("artifact_uuid", "branch_name")
)
#: Top-level table where migration keeps a legacy ``[deployment]`` header that no record carries
#: (a header-only legacy file). SkillMeat ignores it on read.
LEGACY_KEPT_TABLE = "legacy-deployment"
#: How migration names ``[deployment]`` header values kept inside a unified record; any other
#: header key ``K`` is kept as ``deployment-K``. ``collection`` is kept only where it differs from
#: the record's ``from_collection``.
LEGACY_HEADER_EXTRA_KEYS = {
    "collection": "deployment-collection",
    "deployed-at": "deployment-deployed-at",
    "skillmeat-version": "skillmeat-version",
}
LEGACY_HEADER_EXTRA_PREFIX = "deployment-"
#: Suffix migration adds to an extra key whose name is taken by a different value
#: (``source-legacy``, then ``source-legacy-2``, ...).
LEGACY_EXTRA_SUFFIX = "-legacy"
