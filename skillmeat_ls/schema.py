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

DEPLOYABLE_TYPES = ("skill", "command", "agent", "hook", "mcp")
CONTEXT_TYPES = ("project_config", "spec_file", "rule_file", "context_file", "progress_template")
NEWER_TYPES = ("workflow", "composite")
OLD_SPELLINGS = {"mcp_server": "mcp"}
KNOWN_TYPES = frozenset((*DEPLOYABLE_TYPES, *CONTEXT_TYPES, *NEWER_TYPES, *OLD_SPELLINGS))

#: type -> (folder under ``.claude/``, whether the artifact is a directory)
TYPE_LAYOUT: dict[str, tuple[str, bool]] = {
    "skill": ("skills", True),
    "command": ("commands", False),
    "agent": ("agents", False),
    "hook": ("hooks", False),
    "mcp": ("mcp", True),
    "mcp_server": ("mcp", True),
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
PLATFORMS = ("claude_code", "codex", "gemini", "cursor", "remote_git", "other")

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
    """``artifact_path`` as SkillMeat's ``record_deployment`` derives it, or None if it cannot."""
    layout = TYPE_LAYOUT.get(artifact_type)
    if layout is None or artifact_type not in (*DEPLOYABLE_TYPES, "mcp_server"):
        return None
    folder, is_dir = layout
    return f"{folder}/{name}" if is_dir else f"{folder}/{name}.md"


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


def is_safe_name(name: str) -> bool:
    """SkillMeat's artifact-name rule: non-empty, no ``/``, ``\\``, ``..`` or NUL, no leading dot."""
    return bool(name) and not (
        "/" in name or "\\" in name or ".." in name or "\x00" in name or name.startswith(".")
    )


#: Optional unified keys SkillMeat writes only when their value is truthy.
UNIFIED_OMIT_WHEN_FALSY = UNIFIED_KEY_ORDER[UNIFIED_KEY_ORDER.index("local_modifications") + 1 : -1]
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
