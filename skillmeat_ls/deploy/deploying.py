"""Deploying artifacts of one collection into a project's profile root (:func:`deploy`).

An artifact goes where SkillMeat 0.74.0 puts it for the profile (``skills/NAME/``, ``mcp/NAME``,
``commands/NAME.md``, ``agents/NAME.md``, ``hooks/NAME.md``, ``workflows/NAME.js``); a type the
profile does not take is refused. Identity is ``(name, type)`` within the profile's file:
deploying a pair already recorded from another collection replaces that record (the item says
``replaced_from``), so one record per pair remains.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.deploy.copyplan import PlannedItem
from skillmeat_ls.deploy.execution import execute, plan_item
from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.names import unique_pairs, unsafe_name
from skillmeat_ls.deploy.project import LoadedProject, locked
from skillmeat_ls.deploy.results import DeployResult, Refused, Skipped
from skillmeat_ls.profiles import Profile
from skillmeat_ls.schema import canonical_type, is_safe_name

if TYPE_CHECKING:
    from skillmeat_ls.index import Collection


def deploy(
    project: Path | str,
    collection: Collection,
    artifacts: Sequence[tuple[str, str]],
    *,
    overwrite: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    profile: Profile | None = None,
    file_ops: FileOps | None = None,
    hold_record: bool = False,
) -> DeployResult:
    """Copy ``artifacts`` ((name, type) pairs) of ``collection`` into the project's root for
    ``profile`` (default ``claude_code``: ``.claude/``) and record them; all or nothing (see
    :mod:`skillmeat_ls.deploy.execution`). ``dry_run`` reports the same and writes nothing.
    ``hold_record`` does everything but write the deployment file: the result's ``pending``
    (:class:`~.transaction.Pending`, None when there was nothing to write) holds the locks until
    its ``commit()`` (the caller wrote the text, e.g. through the editor) or ``rollback()``.
    ``file_ops`` does the file-system steps (see :class:`.FileOps`). Raises
    :class:`DeployError` when the project or its deployment file is unusable, or what an
    interrupted request left in the root cannot be recovered."""
    with locked(
        project, profile, dry_run=dry_run, file_ops=file_ops
    ) as loaded:
        result = loaded.start_result(DeployResult, dry_run=dry_run)
        planned: list[PlannedItem] = []
        for name, artifact_type in unique_pairs(artifacts):
            rel = loaded.profile.artifact_path(name, artifact_type) if is_safe_name(name) else None
            try:
                planned.append(
                    _plan_deploy(loaded, collection, name, artifact_type, rel, overwrite)
                )
            except Refused as exc:
                result.errors.append(exc.item(name, artifact_type, rel, collection.name))
            except Skipped as exc:
                result.skipped.append(exc.item(name, artifact_type, rel, collection.name))
        execute(
            loaded,
            planned,
            result,
            operation="deploy",
            dry_run=dry_run,
            now=now,
            hold=hold_record,
        )
    return result


def _plan_deploy(
    loaded: LoadedProject,
    collection: Collection,
    name: str,
    artifact_type: str,
    rel: str | None,
    overwrite: bool,
) -> PlannedItem:
    if not is_safe_name(name):
        raise Refused(unsafe_name(name))
    profile = loaded.profile
    if rel is None or not profile.supports(artifact_type):
        raise Refused(
            f"{artifact_type!r} artifacts are not deployed into {profile.root_dir}/ by the "
            f"{profile.id} profile (SkillMeat skips them as ineligible)"
        )
    found = collection.find(name, artifact_type)
    if not found:
        raise Refused(f"collection {collection.name} has no {artifact_type} named {name!r}", rel)
    artifact = found[0]
    if artifact.name != name:
        rel = profile.artifact_path(artifact.name, artifact_type) or rel
    suffix = os.path.splitext(artifact.rel_path)[1]
    if (
        canonical_type(artifact_type) == "orchestration"
        and suffix
        and not posixpath.splitext(rel)[1]
    ):
        rel += suffix  # SkillMeat keeps a script's own suffix (``.js``, ``.py``, ...)
    return plan_item(
        loaded,
        collection,
        artifact,
        name=artifact.name,
        artifact_type=artifact_type,
        rel=rel,
        replace=overwrite,
    )
