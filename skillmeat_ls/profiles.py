"""SkillMeat's deployment profiles: which profile root a profile deploys into, and how.

A *profile* (``claude_code``, ``codex``, ``gemini``, ``cursor``, ``bob``, ``remote_git`` or a
user's custom one) names a *profile root*: a dot-directory directly under the project
(``.claude``, ``.agents``, ...), holding the profile's ``.skillmeat-deployed.toml`` and its copies.
This module owns those facts as SkillMeat 0.74.0 resolves them (``core/platform_defaults.py``):

1. a custom profile ``[deployment.profiles.<id>]`` of the project's ``.skillmeat/config.toml``,
   then of the home's ``config.toml``, wins outright (merged over the built-in it ``extends``;
   its recorded ``platform`` is ``other`` whatever it extends);
2. otherwise the built-in defaults, then ``[platform.defaults.<id>]`` of the home's
   ``config.toml``, then ``$SKILLMEAT_PLATFORM_DEFAULTS_JSON``.

It also maps an existing root back to a profile (``.agents`` -> ``codex``, and ``.codex``, the
root of releases before 0.74.0) for files whose records carry no profile keys. Only reads config
files; never writes.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat_ls.errors import UserFacingError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from skillmeat_ls.schema import CLAUDE_DIR, artifact_path_in, canonical_type

DEFAULT_PROFILE_ID = "claude_code"
CUSTOM_PLATFORM = "other"
CONFIG_FILE_NAME = "config.toml"
PROJECT_CONFIG_DIR = ".skillmeat"
ENV_OVERRIDES = "SKILLMEAT_PLATFORM_DEFAULTS_JSON"

#: ``PLATFORM_DEFAULTS`` of 0.74.0: root, folder per type, eligible types.
_BUILTIN: dict[str, dict[str, Any]] = {
    "claude_code": {
        "root_dir": ".claude",
        "artifact_path_map": {
            "skill": "skills",
            "command": "commands",
            "agent": "agents",
            "hook": "hooks",
            "mcp": "mcp",
            "orchestration": "workflows",
        },
        "supported_artifact_types": ["skill", "command", "agent", "hook", "mcp", "orchestration"],
    },
    "codex": {
        "root_dir": ".agents",
        "artifact_path_map": {"skill": "skills", "command": "commands", "agent": "agents"},
        "supported_artifact_types": ["skill", "command", "agent", "hook", "mcp"],
    },
    "gemini": {
        "root_dir": ".gemini",
        "artifact_path_map": {"skill": "skills", "command": "commands"},
        "supported_artifact_types": ["skill", "command"],
    },
    "cursor": {
        "root_dir": ".cursor",
        "artifact_path_map": {"skill": "skills", "command": "commands", "agent": "agents"},
        "supported_artifact_types": ["skill", "command", "agent"],
    },
    "bob": {
        "root_dir": ".bob",
        "artifact_path_map": {
            "skill": "skills",
            "command": "commands",
            "agent": "agents",
            "hook": "hooks",
            "mcp": "mcp",
        },
        "supported_artifact_types": ["skill", "command", "agent", "hook", "mcp"],
    },
    "other": {"root_dir": ".custom", "artifact_path_map": {}, "supported_artifact_types": ["skill"]},
}
#: Built-in ids with no defaults entry: SkillMeat falls back to ``.<id>`` and lets every type in.
_FALLBACK_IDS = ("remote_git",)
BUILTIN_PROFILE_IDS = (*(k for k in _BUILTIN if k != "other"), *_FALLBACK_IDS)
#: Fallback folders when a profile's map has none for a type (``DEFAULT_ARTIFACT_PATH_MAP``).
_DEFAULT_FOLDERS = _BUILTIN["claude_code"]["artifact_path_map"]
#: Roots of earlier releases, still read by SkillMeat's glob of ``<project>/.*/``.
_OLDER_ROOTS = {".codex": "codex"}


@dataclass(frozen=True)
class Profile:
    """A resolved profile: what SkillMeat records (``deployment_profile_id``, ``platform``,
    ``profile_root_dir``) and where it puts each type."""

    id: str
    platform: str
    root_dir: str
    folders: Mapping[str, str]
    supported_types: frozenset[str] | None  # None: every deployable type

    def supports(self, artifact_type: str) -> bool:
        return self.supported_types is None or canonical_type(artifact_type) in self.supported_types

    def artifact_path(self, name: str, artifact_type: str) -> str | None:
        """Where this profile deploys ``(name, type)``, relative to its root; None when the type
        has no folder (SkillMeat raises "Unknown artifact type")."""
        kind = canonical_type(artifact_type)
        folder = self.folders.get(kind) or _DEFAULT_FOLDERS.get(kind)
        return artifact_path_in(folder, name, kind) if folder else None

    def record_keys(self) -> dict[str, str]:
        """The profile keys SkillMeat 0.74.0 writes into each record of this profile."""
        return {
            "deployment_profile_id": self.id,
            "platform": self.platform,
            "profile_root_dir": self.root_dir,
        }


class ProfileError(UserFacingError, ValueError):
    """A profile id SkillMeat would not resolve, or a custom profile it would reject."""


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    return data


def _table(data: Mapping[str, Any], *keys: str) -> dict[str, Any] | None:
    for key in keys:
        value = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(value, Mapping):
            return None
        data = value
    return dict(data)


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> None:
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def _valid_root(root: object) -> str:
    if not isinstance(root, str) or not root.startswith(".") or "/" in root or "\\" in root:
        raise ProfileError(f"profile root {root!r} is not a dot-directory of the project")
    if root in (".", ".."):
        raise ProfileError(f"profile root {root!r} is not a dot-directory of the project")
    return root


def _profile(profile_id: str, platform: str, spec: Mapping[str, Any], permissive: bool) -> Profile:
    folders = spec.get("artifact_path_map") or {}
    supported = spec.get("supported_artifact_types")
    return Profile(
        id=profile_id,
        platform=platform,
        root_dir=_valid_root(spec.get("root_dir")),
        folders={str(k): str(v) for k, v in folders.items()} if isinstance(folders, Mapping) else {},
        supported_types=None
        if permissive
        else frozenset(canonical_type(str(t)) for t in supported or ()),
    )


def _custom(profile_id: str, configs: list[dict[str, Any]]) -> Profile | None:
    for data in configs:
        spec = _table(data, "deployment", "profiles", profile_id)
        if spec is None:
            continue
        extends = spec.get("extends")
        if extends is not None and extends not in _BUILTIN:
            raise ProfileError(
                f"custom profile {profile_id!r} extends {extends!r}, which is not a built-in "
                f"profile ({', '.join(_BUILTIN)})"
            )
        merged = copy.deepcopy(_BUILTIN[extends or "other"])
        _deep_merge(
            merged,
            {
                key: spec[key]
                for key in ("root_dir", "supported_artifact_types", "artifact_path_map")
                if spec.get(key) is not None
            },
        )
        if not merged.get("supported_artifact_types"):
            raise ProfileError(f"custom profile {profile_id!r} declares no supported types")
        return _profile(profile_id, CUSTOM_PLATFORM, merged, permissive=False)
    return None


def _configs(home: Path | None, project: Path | None) -> list[dict[str, Any]]:
    """The config layers, most specific first: the project's, then the home's."""
    layers = []
    if project is not None:
        layers.append(_read_config(Path(project) / PROJECT_CONFIG_DIR / CONFIG_FILE_NAME))
    if home is not None:
        layers.append(_read_config(Path(home) / CONFIG_FILE_NAME))
    return layers


def resolve_profile(
    profile_id: str | None, *, home: Path | None = None, project: Path | None = None
) -> Profile:
    """The profile ``profile_id`` (default ``claude_code``) as SkillMeat 0.74.0 resolves it."""
    profile_id = profile_id or DEFAULT_PROFILE_ID
    configs = _configs(home, project)
    custom = _custom(profile_id, configs)
    if custom is not None:
        return custom
    if profile_id in _FALLBACK_IDS:
        return Profile(profile_id, profile_id, f".{profile_id}", {}, None)
    if profile_id not in _BUILTIN or profile_id == "other":
        known = ", ".join(BUILTIN_PROFILE_IDS)
        raise ProfileError(f"unknown profile {profile_id!r} (built-in: {known}; or a custom one)")
    spec = copy.deepcopy(_BUILTIN[profile_id])
    if home is not None:
        override = _table(_read_config(Path(home) / CONFIG_FILE_NAME), "platform", "defaults")
        if override and isinstance(override.get(profile_id), Mapping):
            _deep_merge(spec, override[profile_id])
    try:
        env = json.loads(os.environ.get(ENV_OVERRIDES) or "{}")
    except ValueError:
        env = {}
    if isinstance(env, dict) and isinstance(env.get(profile_id), Mapping):
        _deep_merge(spec, env[profile_id])
    return _profile(profile_id, profile_id, spec, permissive=False)


def profile_for_root(
    root_dir: str, *, home: Path | None = None, project: Path | None = None
) -> Profile:
    """The profile whose root is ``root_dir`` (``.agents`` -> codex), for a file whose records do
    not say; a root no profile claims gets a permissive profile named after it."""
    candidates = [*BUILTIN_PROFILE_IDS]
    for data in _configs(home, project):
        candidates.extend(sorted(_table(data, "deployment", "profiles") or {}))
    for profile_id in dict.fromkeys(candidates):
        try:
            profile = resolve_profile(profile_id, home=home, project=project)
        except ProfileError:
            continue
        if profile.root_dir == root_dir:
            return profile
    if root_dir in _OLDER_ROOTS:
        found = resolve_profile(_OLDER_ROOTS[root_dir], home=home, project=project)
        return Profile(found.id, found.platform, root_dir, found.folders, found.supported_types)
    if root_dir == CLAUDE_DIR:
        return resolve_profile(DEFAULT_PROFILE_ID)
    return Profile(root_dir.lstrip("."), CUSTOM_PLATFORM, root_dir, {}, None)
