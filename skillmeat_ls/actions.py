"""Code actions (SPEC §5) as plain data: what to offer for a range of a deployment file.

Each fix is an :class:`Action` holding text edits on the document, a file rename, or a command
to run (deploying and updating copy files, so they cannot be text edits). The protocol layer turns
them into LSP ``CodeAction`` objects; nothing here knows LSP types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat_ls import command_ids
from skillmeat_ls.document import Document, Record, Span
from skillmeat_ls.migration import MigrationError, migrate_text
from skillmeat_ls.profiles import DEFAULT_PROFILE_ID
from skillmeat_ls.project_config import NEW_CONFIG_NAME, ignore_entry
from skillmeat_ls.rules import Diagnostic, record_profile, subject_of
from skillmeat_ls.schema import DEPLOYED_FILE_NAME, canonical_type
from skillmeat_ls.writer import toml_string

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionIndex

QUICKFIX = "quickfix"
MIGRATE_KIND = "source.migrateSchema.skillmeat"
DEPLOY_KIND = "source.deploy.skillmeat"
FIX_ALL_KIND = "source.fixAll.skillmeat"
KINDS = (QUICKFIX, MIGRATE_KIND, DEPLOY_KIND, FIX_ALL_KIND)

MAX_COLLECTION_CHOICES = 5


@dataclass(frozen=True)
class TextEdit:
    span: Span
    new_text: str


@dataclass(frozen=True)
class Action:
    title: str
    kind: str
    diagnostics: tuple[Diagnostic, ...] = ()
    edits: tuple[TextEdit, ...] = ()
    rename_to: Path | None = None
    #: Text appended to another file (creating it when ``create_file``): the project's config.
    append_to: Path | None = None
    append_text: str = ""
    create_file: bool = False
    command: str | None = None
    arguments: list[Any] = field(default_factory=list)
    preferred: bool = False


@dataclass(frozen=True)
class ActionContext:
    path: Path
    index: CollectionIndex | None
    can_rename: bool = True  # the client applies RenameFile resource operations
    can_write: bool = True  # the workspace is trusted: actions that write files are offered
    can_create: bool = True  # the client applies CreateFile resource operations
    config_path: Path | None = None  # the project's config file, if it has one

    @property
    def project(self) -> str:
        return str(self.path.parent.parent)


def profile_argument(record: Record, root_name: str | None) -> dict[str, str]:
    """``{"profile": id}`` for a command on ``record`` in the profile root ``root_name``, or
    nothing for the default profile (commands default to ``claude_code``)."""
    profile = record_profile(record, root_name)
    return {"profile": profile} if profile != DEFAULT_PROFILE_ID else {}


def kind_matches(kind: str, only: Sequence[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def code_actions(
    doc: Document,
    diagnostics: Sequence[Diagnostic],
    span: Span,
    context: ActionContext,
    only: Sequence[str] | None = None,
) -> list[Action]:
    """The actions for ``span``: quick fixes for the diagnostics there, and the source actions."""
    found: list[Action] = []
    if kind_matches(QUICKFIX, only):
        for diagnostic in diagnostics:
            if diagnostic.span[0] <= span[1] and span[0] <= diagnostic.span[1]:
                found.extend(quick_fixes(doc, diagnostic, context))
    if kind_matches(MIGRATE_KIND, only) and (migrate := migration(doc, MIGRATE_KIND)):
        found.append(migrate)
    if kind_matches(DEPLOY_KIND, only) and context.can_write:
        found.append(
            Action(
                "Deploy from collection…",
                DEPLOY_KIND,
                command=command_ids.DEPLOY,
                arguments=[{"project": context.project}],
            )
        )
    if kind_matches(FIX_ALL_KIND, only) and (fixes := fix_all(doc, diagnostics)) is not None:
        found.append(fixes)
    return found


def migration(doc: Document, kind: str, diagnostics: tuple[Diagnostic, ...] = ()) -> Action | None:
    """Migrate a legacy or mixed file to the unified schema, as one whole-file edit."""
    if doc.legacy_header is None and not doc.legacy_records():
        return None
    try:
        migrated = migrate_text(doc.text)
    except MigrationError:
        return None  # a syntax error first: SM100 says where
    return Action(
        "Migrate to unified schema",
        kind,
        diagnostics,
        (TextEdit((0, len(doc.text)), migrated),),
        preferred=kind == QUICKFIX,
    )


def _record_span(doc: Document, record: Record) -> Span:
    """The text to delete to remove ``record``: its table, or its inline ``{...}`` and comma."""
    start, end = record.offset, record.offset + len(record.chunk.text)
    if record.chunk.header_span == (0, 1):  # written inline
        while end < len(doc.text) and doc.text[end] in " \t\r\n,":
            end += 1
    return (start, end)


def _replace_value(record: Record, key: str, value: str) -> TextEdit | None:
    found = record.field(record.meaning(key))
    return TextEdit(found.value_span, toml_string(value)) if found is not None else None


def quick_fixes(doc: Document, diagnostic: Diagnostic, context: ActionContext) -> list[Action]:
    """The fixes of ``diagnostic``'s code, then "Ignore" (offered for every code)."""
    fixes = _code_fixes(doc, diagnostic, context)
    ignore = _ignore_fix(doc, diagnostic, context)
    return [*fixes, ignore] if ignore is not None else fixes


def _ignore_fix(doc: Document, diagnostic: Diagnostic, context: ActionContext) -> Action | None:
    """Append an ``[[ignore]]`` entry for this code (and artifact) to the project's config."""
    target = context.config_path or context.path.parent.parent / NEW_CONFIG_NAME
    if context.config_path is None and not context.can_create:
        return None
    subject = subject_of(doc, diagnostic, context.path.parent.name)
    if subject is None:
        title, artifact, profile = f"Ignore {diagnostic.code} in this project", None, None
    else:
        name, artifact_type, profile_id = subject
        title = f"Ignore {diagnostic.code} for '{name}'"
        artifact = (name, artifact_type)
        profile = profile_id if profile_id != DEFAULT_PROFILE_ID else None
    return Action(
        title,
        QUICKFIX,
        (diagnostic,),
        append_to=target,
        append_text=ignore_entry(diagnostic.code, artifact, profile),
        create_file=context.config_path is None,
    )


def _code_fixes(doc: Document, diagnostic: Diagnostic, context: ActionContext) -> list[Action]:
    code, data = diagnostic.code, diagnostic.data or {}
    record = doc.record_at(diagnostic.span[0])
    one = (diagnostic,)
    if code in ("SM101", "SM102"):
        action = migration(doc, QUICKFIX, one)
        return [action] if action else []
    if code == "SM104" and data.get("rename_to") and context.can_rename:
        return [
            Action(
                f"Rename to {DEPLOYED_FILE_NAME}",
                QUICKFIX,
                one,
                rename_to=context.path.with_name(DEPLOYED_FILE_NAME),
                preferred=True,
            )
        ]
    if record is None:
        return []
    if code == "SM120":
        return [
            Action(
                f"Remove duplicate record '{record.name}'",
                QUICKFIX,
                one,
                (TextEdit(_record_span(doc, record), ""),),
                preferred=True,
            )
        ]
    if code == "SM113" and data.get("conventional"):
        edit = _replace_value(record, "artifact_path", data["conventional"])
        return (
            [
                Action(
                    f"Use conventional path '{data['conventional']}'",
                    QUICKFIX,
                    one,
                    (edit,),
                    preferred=True,
                )
            ]
            if edit
            else []
        )
    if code == "SM112" and data.get("suggestion"):
        edit = _replace_value(record, "artifact_type", data["suggestion"])
        return (
            [
                Action(
                    f"Change type to '{data['suggestion']}'", QUICKFIX, one, (edit,), preferred=True
                )
            ]
            if edit
            else []
        )
    if code == "SM130":
        return _change_collection(doc, record, data.get("suggestions") or [], one)
    if code in ("SM131", "SM132") and context.can_write:
        return _deploy_fixes(record, code, data, one, context)
    fixes = []
    if code in ("SM141", "SM142") and context.can_write and record.name and record.type:
        fixes.append(
            Action(
                "Update from collection",
                QUICKFIX,
                one,
                command=command_ids.UPDATE_FROM_COLLECTION,
                arguments=[_record_argument(record, context)],
                preferred=code == "SM141",
            )
        )
    if code in DRIFT_CODES:
        fixes.extend(_drift_fixes(doc, record, code, one, context))
    return fixes


DRIFT_CODES = ("SM140", "SM141", "SM142")


def _record_argument(record: Record, context: ActionContext) -> dict[str, str]:
    """``{"project", "name", "type", "profile"?}``: the argument of a command on one record."""
    return {
        "project": context.project,
        "name": record.name or "",
        "type": canonical_type(record.type or ""),
        **profile_argument(record, context.path.parent.name),
    }


def _drift_fixes(
    doc: Document, record: Record, code: str, one: tuple[Diagnostic, ...], context: ActionContext
) -> list[Action]:
    """SPEC §5 on SM140–SM142: "Compare with collection" (read-only, so offered in an untrusted
    workspace too); on a local change (SM140, SM142) "Keep local changes" and "Pull local changes
    into '<collection>'"."""
    if not (record.name and record.type):
        return []
    argument = _record_argument(record, context)
    fixes = [Action("Compare with collection", QUICKFIX, one, command=command_ids.COMPARE,
                    arguments=[argument])]
    if code in ("SM140", "SM142") and context.can_write:
        collection = doc.collection_of(record)[0] or "its collection"
        fixes += [
            Action("Keep local changes", QUICKFIX, one, command=command_ids.KEEP_LOCAL,
                   arguments=[argument], preferred=code == "SM140"),
            Action(f"Pull local changes into '{collection}'", QUICKFIX, one,
                   command=command_ids.PULL_TO_COLLECTION, arguments=[argument]),
        ]
    return fixes


def _change_collection(
    doc: Document, record: Record, names: Iterable[str], one: tuple[Diagnostic, ...]
) -> list[Action]:
    if record.schema == "legacy":
        header = doc.legacy_collection()
        target = header.value_span if header is not None else None
    else:
        found = record.field("from_collection")
        target = found.value_span if found is not None else None
    if target is None:
        return []
    return [
        Action(
            f"Change collection to '{name}'",
            QUICKFIX,
            one,
            (TextEdit(target, toml_string(name)),),
            preferred=i == 0,
        )
        for i, name in enumerate(list(names)[:MAX_COLLECTION_CHOICES])
    ]


def _deploy_fixes(
    record: Record,
    code: str,
    data: dict[str, Any],
    one: tuple[Diagnostic, ...],
    context: ActionContext,
) -> list[Action]:
    if not record.name or not record.type:
        return []
    if code == "SM131":
        sources = list(data.get("collections") or [])
    else:
        sources = [data["collection"]] if data.get("collection") else []
    artifact = {"name": record.name, "type": canonical_type(record.type)}
    return [
        Action(
            f"Deploy '{record.name}' from '{source}'",
            QUICKFIX,
            one,
            command=command_ids.DEPLOY,
            arguments=[
                {
                    "project": context.project,
                    "collection": source,
                    "artifacts": [artifact],
                    **profile_argument(record, context.path.parent.name),
                }
            ],
        )
        for source in sources[:MAX_COLLECTION_CHOICES]
    ]


_SAFE_FIXES = ("SM120", "SM113", "SM112")


def fix_all(doc: Document, diagnostics: Sequence[Diagnostic]) -> Action | None:
    """The safe, non-interactive fixes at once: the migration of a legacy file (which rewrites
    everything), else duplicate removals, conventional paths and near-miss types."""
    legacy = tuple(d for d in diagnostics if d.code in ("SM101", "SM102"))
    if legacy:
        migrate = migration(doc, FIX_ALL_KIND, legacy)
        return (
            Action("Fix all: migrate to unified schema", FIX_ALL_KIND, legacy, migrate.edits)
            if migrate
            else None
        )
    context = ActionContext(Path(), None)
    edits: list[TextEdit] = []
    fixed: list[Diagnostic] = []
    removed: list[Span] = []
    for diagnostic in sorted(
        diagnostics,
        key=lambda d: _SAFE_FIXES.index(d.code) if d.code in _SAFE_FIXES else len(_SAFE_FIXES),
    ):
        if diagnostic.code not in _SAFE_FIXES:
            continue
        if any(start <= diagnostic.span[0] < end for start, end in removed):
            continue  # its record is being removed
        for action in _code_fixes(doc, diagnostic, context):
            edits.extend(action.edits)
            fixed.append(diagnostic)
            if diagnostic.code == "SM120":
                removed.extend(edit.span for edit in action.edits)
    if not edits:
        return None
    return Action("Fix all SkillMeat problems", FIX_ALL_KIND, tuple(fixed), tuple(edits))
