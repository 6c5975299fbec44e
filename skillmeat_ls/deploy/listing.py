"""What is deployed where, for the listings the editor shows: every profile root of a project
with its deployment file and records in their sync state (:func:`deployments_of`, the VS Code
*Deployments* view), and which collection each recorded artifact came from
(:func:`deployed_from`, ``skillmeat.listCollections``). Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.deploy.drift import status
from skillmeat_ls.deploy.project import deployment_file
from skillmeat_ls.deploy.results import RecordStatus
from skillmeat_ls.document import parse_document
from skillmeat_ls.errors import UserFacingError
from skillmeat_ls.profiles import Profile, profile_for_root
from skillmeat_ls.schema import Identity, identity
from skillmeat_ls.workspace import contained, project_files, read_text

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionIndex


@dataclass
class RootDeployments:
    """One profile root: its profile, its deployment file, and each record with its deployed
    copy (None when it is not there)."""

    root: str
    profile: str
    file: Path
    records: list[tuple[RecordStatus, Path | None]] = field(default_factory=list)


@dataclass
class ProjectDeployments:
    """One project's profile roots, or why its deployment files could not be read."""

    project: Path
    roots: list[RootDeployments] = field(default_factory=list)
    error: str | None = None


def deployments_of(
    project: Path, index: CollectionIndex | None, home: Path | None = None
) -> ProjectDeployments:
    """Every profile root of ``project`` holding a deployment file (``.claude`` first), with its
    records' sync state as :func:`~.drift.status` judges it."""
    found = ProjectDeployments(project)
    try:
        records = status(project, index)
    except UserFacingError as exc:
        found.error = str(exc)
        return found
    roots: dict[str, RootDeployments] = {}
    for file in project_files(project):  # in .claude/, the unified name first: the one read
        profile = profile_for_root(file.parent.name, home=home, project=project)
        roots.setdefault(file.parent.name, RootDeployments(file.parent.name, profile.id, file))
    for record in records:
        copy = contained(project / record.root, record.path) if record.path else None
        roots[record.root].records.append((record, copy if copy and copy.exists() else None))
    found.roots = list(roots.values())
    return found


def deployed_from(project: Path, profile: Profile) -> dict[Identity, str]:
    """(name, type) -> collection, for the records of ``project``'s deployment file of
    ``profile``; names as SkillMeat compares them."""
    path = deployment_file(project, profile)
    if path is None:
        return {}
    try:
        document = parse_document(read_text(path))
    except (OSError, ValueError):
        return {}
    found = {}
    for record in document.records:
        collection = document.collection_of(record)[0]
        if record.name and record.type and collection:
            found[identity(record.name, record.type)] = collection
    return found
