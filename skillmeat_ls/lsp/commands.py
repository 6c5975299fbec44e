"""``workspace/executeCommand`` (SPEC §6): argument checking, prompts, and calls into the engine.

Protocol glue: it asks the user through ``window/showMessageRequest`` (which every LSP editor
shows), edits open documents through ``workspace/applyEdit`` (so the editor's buffer and undo stay
right), and runs the engine's work (:mod:`skillmeat_ls.deploy`, :mod:`skillmeat_ls.migration`) on
the engine thread. It depends on :class:`CommandHost`, the few things it needs from a server, not
on the server class. A command that cannot run as asked raises a
:class:`~skillmeat_ls.errors.UserFacingError`; :mod:`skillmeat_ls.lsp.handlers` shows it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from lsprotocol import types as lsp

from skillmeat_ls import command_ids, doctor
from skillmeat_ls.cache.revisions import HEAD
from skillmeat_ls.document import parse_document
from skillmeat_ls.errors import UserFacingError
from skillmeat_ls.lsp.convert import path_uri, replace_all_edit, uri_path
from skillmeat_ls.migration import MigrationError, migrate_text
from skillmeat_ls.navigation import copies_of
from skillmeat_ls.profiles import Profile, resolve_profile
from skillmeat_ls.schema import Identity, identity
from skillmeat_ls.workspace import is_deployment_file, read_text
from skillmeat_ls.writer import atomic_write

if TYPE_CHECKING:
    from skillmeat_ls.deploy import DeployResult
    from skillmeat_ls.deploy.listing import ProjectDeployments
    from skillmeat_ls.index import Collection, CollectionIndex
    from skillmeat_ls.session import Session, SessionSnapshot

T = TypeVar("T")

log = logging.getLogger(__name__)

ALL_ARTIFACTS = "All"
RUN_DOCTOR = "Run doctor"
EDITOR_TIMEOUT_S = 120.0  # how long deploy waits for the editor to answer workspace/applyEdit
#: Overrides :data:`EDITOR_TIMEOUT_S` (seconds): for an editor known to be slow, and for tests.
EDITOR_TIMEOUT_ENV = "SKILLMEAT_LS_EDITOR_TIMEOUT"
RECORD_LABEL = "SkillMeat: record the deployment"


class CommandError(UserFacingError):
    """A command that cannot run as asked; the message is shown to the user."""


@dataclass(frozen=True)
class OpenDocument:
    """An open document as the editor holds it."""

    source: str
    version: int | None
    line_count: int


class CommandHost(Protocol):
    """What the commands need from the server. ``session`` is changed on the engine thread
    only: its methods are called through :meth:`work`; ``snapshot`` is what the event loop reads."""

    session: Session

    @property
    def snapshot(self) -> SessionSnapshot: ...

    async def work(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def wait_ready(self) -> None: ...

    def open_document(self, path: Path) -> OpenDocument | None: ...

    async def apply_edit(self, edit: lsp.WorkspaceEdit, label: str) -> bool: ...

    async def ask(
        self, message: str, titles: Sequence[str], level: lsp.MessageType = ...
    ) -> str | None: ...

    def show_message(self, level: lsp.MessageType, message: str) -> None: ...

    def log_message(self, level: lsp.MessageType, message: str) -> None: ...

    async def analyze_project(self, project: Path) -> None: ...

    async def analyze_everything(self, files: list[Path] | None = None) -> None: ...

    def workspace_folders(self) -> list[Path]: ...

    def deployment_files(self) -> set[Path]: ...


def _cancelled() -> dict[str, Any]:
    return {"deployed": [], "skipped": [], "errors": [], "cancelled": True}


def _path_of(value: object, what: str) -> Path:
    """A path from a ``file:`` URI or a plain path string."""
    if not isinstance(value, str) or not value:
        raise CommandError(f"{what} is missing: give a file URI or a path")
    path = uri_path(value) if value.startswith("file:") else Path(value)
    if path is None:
        raise CommandError(f"{what} must be a file URI or a path, not {value!r}")
    return path


def _request(args: tuple[Any, ...]) -> dict[str, Any]:
    request = args[0] if args else {}
    if not isinstance(request, Mapping):
        raise CommandError('the argument must be an object, e.g. {"project": "file:///..."}')
    return dict(request)


class Commands:
    """The server's commands, by SPEC id."""

    def __init__(self, host: CommandHost) -> None:
        self.host = host
        self.handlers: dict[str, Callable[..., Awaitable[Any]]] = {
            command_ids.MIGRATE_SCHEMA: self.migrate_schema,
            command_ids.DEPLOY: self.deploy,
            command_ids.LIST_COLLECTIONS: self.list_collections,
            command_ids.UPDATE_FROM_COLLECTION: self.update_from_collection,
            command_ids.REFRESH_CACHE: self.refresh_cache,
            command_ids.CACHE_STATUS: self.cache_status,
            command_ids.DOCTOR: self.doctor,
            command_ids.UNDEPLOY: self.undeploy,
            command_ids.COMPARE: self.compare,
            command_ids.KEEP_LOCAL: self.keep_local,
            command_ids.PULL_TO_COLLECTION: self.pull_to_collection,
            command_ids.LIST_DEPLOYMENTS: self.list_deployments,
        }
        assert tuple(self.handlers) == command_ids.ALL, "command_ids.ALL lists every command"
        self._doctor_homes: set[Path] = set()
        self._doctor_task: asyncio.Future[None] | None = None

    # --- helpers ------------------------------------------------------------------------------

    def _require_trust(self, what: str) -> None:
        if not self.host.snapshot.settings.trusted:
            raise CommandError(f"{what} is disabled in an untrusted workspace")

    async def _writable_project(self, value: object, what: str) -> Path:
        """The project a writing command names, refused unless it lies inside one of the
        workspace folders: a client (or a crafted code action) cannot make the server write to
        ``/etc/.claude``. The command line takes any ``--project`` the user names."""
        project = _path_of(value, "the project")
        folders = self.host.workspace_folders()
        if not await self.host.work(_inside_any, project, folders):
            shown = ", ".join(str(f) for f in folders) or "none are open"
            raise CommandError(
                f"{project} is not inside the workspace folders ({shown}): {what} refused"
            )
        return project

    async def _index(self) -> CollectionIndex:
        await self.host.wait_ready()
        snapshot = self.host.snapshot
        if snapshot.index is None or not snapshot.index.collections:
            raise CommandError(f"no collections found in {snapshot.settings.home}")
        return snapshot.index

    async def _apply_to_open(self, path: Path, new_text: str, label: str) -> bool:
        """Replace an open document's text through the editor; False if declined."""
        document = self.host.open_document(path)
        if document is None:
            return False
        edit = replace_all_edit(path_uri(path), document.version, document.line_count, new_text)
        return await self.host.apply_edit(edit, label)

    def _profile(self, request: Mapping[str, Any], project: Path) -> Profile:
        """The request's ``profile`` (default ``claude_code``), resolved as SkillMeat does (it
        reads SkillMeat's config files: run it on the engine thread)."""
        value = request.get("profile")
        if value is not None and not isinstance(value, str):
            raise CommandError('"profile" must be a profile id such as "codex"')
        return resolve_profile(value, home=self.host.session.settings.home, project=project)

    async def _held_in_editor(self, project: Path, profile: Profile) -> bool:
        """Whether deploy and update must leave the deployment file to the editor: it is open
        there (the record goes in through ``workspace/applyEdit``, so the buffer and its undo
        stay right). Refused while the editor holds unsaved changes to it: the new text is built
        from the file on disk and would drop them."""
        from skillmeat_ls.deploy import deployment_file

        path = await self.host.work(deployment_file, project, profile)
        document = self.host.open_document(path) if path is not None else None
        if path is None or document is None:
            return False
        if document.source != await self.host.work(read_text, path):
            raise CommandError(f"{path} has unsaved changes: save it first")
        return True

    async def _write(
        self, project: Path, held: bool, request: Callable[[bool], DeployResult]
    ) -> dict[str, Any]:
        """Run a deploy or update (``request(hold_record)``) and record it. With the deployment
        file open in the editor (``held``, from :meth:`_held_in_editor`) it runs in three steps,
        so that no request holds the engine while the editor answers: the copies on the engine
        thread, the new text through ``workspace/applyEdit`` awaited here on the event loop
        (other documents keep being served meanwhile), then commit, or roll back if the editor
        declined or did not answer within :func:`editor_timeout` (again on the engine thread)."""
        result = await self.host.work(request, held)
        pending = result.pending
        if pending is not None:
            reason = "the editor declined the edit to the deployment file"
            try:
                applied = await asyncio.wait_for(
                    self._apply_to_open(pending.path, pending.text, RECORD_LABEL),
                    editor_timeout(),
                )
            except asyncio.TimeoutError:
                applied, reason = False, "the editor did not answer the edit in time"
            except Exception as exc:  # the client failed the request: as declined
                log.info("workspace/applyEdit failed: %s", exc)
                applied = False
            if applied:
                await self.host.work(pending.commit)
            else:
                result = result.not_recorded(reason, await self.host.work(pending.rollback))
        await self._after_change(project)
        return result.as_dict()

    async def _after_change(self, project: Path) -> None:
        """Analyse ``project``'s deployment files again, from what is now on disk."""
        await self.host.analyze_project(project)

    # --- commands -----------------------------------------------------------------------------

    async def migrate_schema(self, *args: Any) -> dict[str, Any]:
        self._require_trust("migrating")
        path = _path_of(args[0] if args else None, "the deployment file")
        if not is_deployment_file(path):
            raise CommandError(f"{path} is not a SkillMeat deployment file: nothing changed")
        document = self.host.open_document(path)
        text = document.source if document is not None else await self.host.work(read_text, path)
        try:
            migrated = migrate_text(text)
        except MigrationError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        if migrated == text:
            return {"applied": False, "path": str(path), "message": "already unified"}
        if document is not None:
            applied = await self._apply_to_open(path, migrated, "Migrate to unified schema")
            return {"applied": applied, "path": str(path)}
        await self._writable_project(str(path.parent.parent), "migrating")  # a write to disk
        backup = await self.host.work(lambda: atomic_write(path, migrated, backup=True))
        await self.host.analyze_project(path.parent.parent)
        return {"applied": True, "path": str(path), "backup": str(backup) if backup else None}

    async def deploy(self, *args: Any) -> dict[str, Any]:
        self._require_trust("deploying")
        request = _request(args)
        project = await self._writable_project(request.get("project"), "deploying")
        profile = await self.host.work(self._profile, request, project)
        index = await self._index()
        name = request.get("collection") or await self.host.ask(
            f"Deploy into {project.name} from which collection?", index.names()
        )
        if name is None:
            return _cancelled()
        collection = index.get(name)
        if collection is None:
            raise CommandError(f"no collection named {name!r}; known: {', '.join(index.names())}")
        artifacts = self._requested_artifacts(request.get("artifacts"))
        if artifacts is None:
            artifacts = await self._ask_artifacts(collection)
            if artifacts is None:
                return _cancelled()
        overwrite = request.get("overwrite") is True
        held = await self._held_in_editor(project, profile)
        from skillmeat_ls import deploy

        return await self._write(
            project,
            held,
            lambda hold: deploy.deploy(
                project, collection, artifacts, overwrite=overwrite, hold_record=hold,
                profile=profile,
            ),
        )

    @staticmethod
    def _requested_artifacts(value: object) -> list[tuple[str, str]] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(item, Mapping)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("type"), str)
            for item in value
        ):
            raise CommandError('"artifacts" must be a list of {"name": ..., "type": ...}')
        return [(item["name"], item["type"]) for item in value]

    async def _ask_artifacts(self, collection: Collection) -> list[tuple[str, str]] | None:
        choices = {f"{a.name} ({a.type})": a.key for a in collection.artifacts.values()}
        answer = await self.host.ask(
            f"Deploy which artifact from {collection.name}?", [*choices, ALL_ARTIFACTS]
        )
        if answer is None:
            return None
        return list(choices.values()) if answer == ALL_ARTIFACTS else [choices[answer]]

    async def list_collections(self, *args: Any) -> list[dict[str, Any]]:
        index = await self._index()
        request = _request(args) if args else {}
        deployed_from: dict[Identity, str] = {}
        if request.get("project"):
            project = _path_of(request["project"], "the project")
            profile = await self.host.work(self._profile, request, project)
            from skillmeat_ls.deploy.listing import deployed_from as recorded_collections

            deployed_from = await self.host.work(recorded_collections, project, profile)
        return [
            {
                "name": collection.name,
                "path": str(collection.path),
                "artifacts": [
                    {
                        "name": a.name,
                        "type": a.type,
                        "content_hash": a.content_hash,
                        "description": a.description,
                        **(
                            {"deployed_from": deployed_from[identity(a.name, a.type)]}
                            if identity(a.name, a.type) in deployed_from
                            else {}
                        ),
                    }
                    for a in collection.artifacts.values()
                ],
                "groups": [
                    {"name": g.name, "description": g.description, "members": list(g.members)}
                    for g in collection.groups
                ],
            }
            for collection in (index.get(name) for name in index.names())
            if collection is not None
        ]

    async def list_deployments(self, *args: Any) -> list[dict[str, Any]]:
        """Every workspace project's deployment files and their records with their sync state
        (``{"project": uri|path}`` for one project): what the VS Code *Deployments* view shows.
        Read-only; a project whose file cannot be read carries an ``error`` instead."""
        await self.host.wait_ready()
        request = _request(args) if args else {}
        if request.get("project"):
            projects = [_path_of(request["project"], "the project")]
        else:
            projects = sorted({path.parent.parent for path in self.host.deployment_files()})
        from skillmeat_ls.deploy.listing import deployments_of

        snapshot = self.host.snapshot
        return [
            _deployments_json(
                await self.host.work(
                    deployments_of, project, snapshot.index, snapshot.settings.home
                )
            )
            for project in projects
        ]

    async def update_from_collection(self, *args: Any) -> dict[str, Any]:
        self._require_trust("updating")
        request = _request(args)
        project = await self._writable_project(request.get("project"), "updating")
        name, artifact_type = _artifact(request)
        profile = await self.host.work(self._profile, request, project)
        index = await self._index()
        held = await self._held_in_editor(project, profile)
        force = request.get("force") is True
        from skillmeat_ls import deploy

        if not force:
            records = await self.host.work(deploy.status, project, index, profile)
            wanted = identity(name, artifact_type)
            found = next(
                (r for r in records if identity(r.name or "", r.type or "") == wanted), None
            )
            if found is not None and found.state in ("modified", "conflict"):
                answer = await self.host.ask(
                    f"{artifact_type} '{name}' has local changes. Overwrite them with the "
                    "collection's copy?",
                    ["Overwrite", "Cancel"],
                )
                if answer != "Overwrite":
                    return _cancelled()
                force = True
        return await self._write(
            project,
            held,
            lambda hold: deploy.update(
                project, index, name, artifact_type, force=force, hold_record=hold,
                profile=profile,
            ),
        )

    async def undeploy(self, *args: Any) -> dict[str, Any]:
        """Remove a record's copy and its record (SPEC §6), atomically and journalled."""
        self._require_trust("undeploying")
        request = _request(args)
        project = await self._writable_project(request.get("project"), "undeploying")
        name, artifact_type = _artifact(request)
        profile = await self.host.work(self._profile, request, project)
        await self._held_in_editor(project, profile)  # refused over unsaved changes
        from skillmeat_ls import deploy

        result = await self.host.work(
            lambda: deploy.undeploy(project, name, artifact_type, profile=profile)
        )
        await self._after_change(project)
        return result.as_dict()

    async def keep_local(self, *args: Any) -> dict[str, Any]:
        """Record a locally modified copy as the deployed baseline (SPEC §6)."""
        self._require_trust("keeping local changes")
        request = _request(args)
        project = await self._writable_project(request.get("project"), "keeping local changes")
        name, artifact_type = _artifact(request)
        profile = await self.host.work(self._profile, request, project)
        held = await self._held_in_editor(project, profile)
        from skillmeat_ls import deploy

        return await self._write(
            project,
            held,
            lambda hold: deploy.keep_local(
                project, name, artifact_type, profile=profile, hold_record=hold
            ),
        )

    async def pull_to_collection(self, *args: Any) -> dict[str, Any]:
        """Context-sync pull (SPEC §6): the project copy goes back into its collection, which
        is then indexed again, so every project deployed from it is judged anew."""
        self._require_trust("pulling")
        request = _request(args)
        project = await self._writable_project(request.get("project"), "pulling")
        name, artifact_type = _artifact(request)
        from skillmeat_ls import deploy

        strategy = request.get("strategy", "overwrite")
        if strategy not in deploy.STRATEGIES:
            raise CommandError(f'"strategy" must be one of {", ".join(deploy.STRATEGIES)}')
        profile = await self.host.work(self._profile, request, project)
        index = await self._index()
        held = await self._held_in_editor(project, profile)
        result = await self._write(
            project,
            held,
            lambda hold: deploy.pull(
                project, index, name, artifact_type, profile=profile, strategy=strategy,
                hold_record=hold,
            ),
        )
        await self.host.work(self.host.session.reload_collections)
        await self.host.analyze_everything()
        return result

    async def compare(self, *args: Any) -> dict[str, str]:
        """The two copies of a record for a diff view (SPEC §6): ``{"deployed": uri,
        "collection": uri}``; read-only."""
        request = _request(args)
        project = _path_of(request.get("project"), "the project")
        name, artifact_type = _artifact(request)
        profile = await self.host.work(self._profile, request, project)
        await self.host.wait_ready()
        found = await self.host.work(self._copies, project, profile, name, artifact_type)
        return {"deployed": path_uri(found[0]), "collection": path_uri(found[1])}

    def _copies(
        self, project: Path, profile: Profile, name: str, artifact_type: str
    ) -> tuple[Path, Path]:
        """(deployed copy, collection copy) of the record ``(name, type)`` (engine thread)."""
        from skillmeat_ls.deploy import deployment_file

        path = deployment_file(project, profile)
        if path is None:
            raise CommandError(f"{project} has no deployment file in {profile.root_dir}/")
        document = parse_document(read_text(path))
        wanted = identity(name, artifact_type)
        record = next(
            (r for r in document.records
             if r.name and r.type and identity(r.name, r.type) == wanted),
            None,
        )
        if record is None:
            raise CommandError(f"no {artifact_type} {name!r} is recorded in {path}")
        copies = copies_of(document, record, self.host.session.context(path))
        if copies.deployed is None:
            raise CommandError(f"the deployed copy of {artifact_type} {name!r} is missing")
        if copies.collection is None:
            collection = document.collection_of(record)[0]
            raise CommandError(f"collection {collection!r} has no {artifact_type} {name!r}")
        return copies.deployed, copies.collection

    async def refresh_cache(self, *_args: Any) -> dict[str, Any]:
        await self.host.wait_ready()
        index = await self.host.work(self.host.session.reload_collections)
        await self.host.analyze_everything()
        return {"collections": len(index.collections), "problems": [str(p) for p in index.problems]}

    async def cache_status(self, *_args: Any) -> dict[str, Any]:
        snapshot = self.host.snapshot
        status = snapshot.status
        cache = status.cache
        return {
            "path": str(snapshot.settings.cache_path),
            "revision": cache.revision if cache is not None else None,
            "head": HEAD,
            "state": status.state,
            "message": status.message,
        }

    async def doctor(self, *args: Any) -> dict[str, Any]:
        """``skillmeat-ls doctor`` (read-only; repairing is left to the command line): the report
        as JSON plus its text. ``{"skillmeat": PATH}`` names the SkillMeat to ask."""
        request = _request(args) if args else {}
        skillmeat = request.get("skillmeat")
        if skillmeat is not None and not isinstance(skillmeat, str):
            raise CommandError('"skillmeat" must be the path of SkillMeat or its Python')
        home = self.host.snapshot.settings.home
        loop = asyncio.get_running_loop()
        # SkillMeat's interpreter takes seconds: not on the engine thread, which analyses
        report = await loop.run_in_executor(
            None, lambda: doctor.diagnose(home, skillmeat=skillmeat or None)
        )
        return {**report.as_dict(), "text": report.render_text()}

    def check_skillmeat_cache(self) -> None:
        """Once per SkillMeat home: when SkillMeat's own ``cache.db`` is broken, say so once (a
        ``showMessageRequest`` offering "Run doctor"), never as a diagnostic on every file."""
        home = self.host.snapshot.settings.home
        if home in self._doctor_homes:
            return
        self._doctor_homes.add(home)
        self._doctor_task = asyncio.ensure_future(self._doctor_at_start(home))

    async def _doctor_at_start(self, home: Path) -> None:
        try:
            # the file's structure only (no SkillMeat process at start-up): read-only, fast
            report = await self.host.work(lambda: doctor.diagnose(home, use_skillmeat=False))
        except Exception:
            log.exception("could not inspect SkillMeat's cache")
            return
        if report.verdict is not doctor.Verdict.BROKEN:
            return
        answer = await self.host.ask(report.summary(), [RUN_DOCTOR], lsp.MessageType.Warning)
        if answer != RUN_DOCTOR:
            return
        found = await self.doctor()
        self.host.log_message(lsp.MessageType.Info, found["text"])
        level = lsp.MessageType.Warning if found["exit_code"] else lsp.MessageType.Info
        self.host.show_message(level, found["text"])


def _artifact(request: Mapping[str, Any]) -> tuple[str, str]:
    """The ``name`` and ``type`` of a command on one record."""
    name, artifact_type = request.get("name"), request.get("type")
    if not isinstance(name, str) or not isinstance(artifact_type, str):
        raise CommandError('give the artifact as {"project", "name", "type"}')
    return name, artifact_type


def _deployments_json(found: ProjectDeployments) -> dict[str, Any]:
    """One project's entry of ``skillmeat.listDeployments`` (its shape is in README)."""
    entry: dict[str, Any] = {"project": str(found.project), "name": found.project.name}
    if found.error is not None:
        return {**entry, "roots": [], "error": found.error}
    entry["roots"] = [
        {
            "root": root.root,
            "profile": root.profile,
            "file": path_uri(root.file),
            "records": [
                {**record.as_dict(), "deployed": path_uri(copy) if copy is not None else None}
                for record, copy in root.records
            ],
        }
        for root in found.roots
    ]
    return entry


def editor_timeout() -> float:
    try:
        return max(float(os.environ.get(EDITOR_TIMEOUT_ENV, EDITOR_TIMEOUT_S)), 0.0)
    except ValueError:
        return EDITOR_TIMEOUT_S


def _inside_any(path: Path, folders: list[Path]) -> bool:
    """Whether ``path`` (links resolved) is one of ``folders`` or lies under one."""
    from skillmeat_ls.deploy.paths import inside

    real = os.path.realpath(path)
    return any(inside(real, os.path.realpath(folder)) for folder in folders)
