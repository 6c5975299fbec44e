"""The ``skillmeat-ls`` sub-commands that change or report a project: deploy, update, undeploy,
keep-local, pull and status (:mod:`skillmeat_ls.deploy` does the work; this module parses and
prints)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.cli.common import EXIT_FINDINGS, EXIT_OK, UserError, plural
from skillmeat_ls.locations import resolve_cache_path

if TYPE_CHECKING:
    from skillmeat_ls.deploy import FileOps, RecoveryReport
    from skillmeat_ls.deploy.results import RequestResult, ResultItem
    from skillmeat_ls.index import CollectionIndex
    from skillmeat_ls.profiles import Profile


def _project_option(parser: argparse.ArgumentParser, *, every_profile: bool = False) -> None:
    parser.add_argument(
        "--project", default=".", metavar="DIR", help="the project (the parent of .claude/)"
    )
    parser.add_argument(
        "--profile",
        metavar="ID",
        help="SkillMeat profile: claude_code (.claude/), codex (.agents/), gemini, cursor, bob, "
        "or a custom one (default: "
        + ("every profile of the project)" if every_profile else "claude_code)"),
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")


def _profile(args: argparse.Namespace, *, default_all: bool = False) -> Profile | None:
    """The ``--profile`` of a deploy command, resolved as SkillMeat resolves it."""
    from skillmeat_ls.locations import resolve_home
    from skillmeat_ls.profiles import ProfileError, resolve_profile

    if args.profile is None and default_all:
        return None
    try:
        return resolve_profile(
            args.profile, home=resolve_home(args.home), project=Path(args.project).absolute()
        )
    except ProfileError as exc:
        raise UserError(str(exc)) from exc


def add_deploy_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    deploy = commands.add_parser(
        "deploy", parents=[common], help="copy artifacts of a collection into a project's .claude/"
    )
    _project_option(deploy)
    deploy.add_argument("--collection", required=True, metavar="NAME", help="the collection")
    deploy.add_argument("artifacts", nargs="+", metavar="NAME[:TYPE]")
    deploy.add_argument(
        "--overwrite", action="store_true", help="replace copies with local changes or no record"
    )
    deploy.add_argument("--dry-run", action="store_true", help="report, write nothing")
    deploy.set_defaults(handler=_cmd_deploy)

    update = commands.add_parser(
        "update", parents=[common], help="re-deploy recorded artifacts from their collection"
    )
    _project_option(update)
    update.add_argument("artifacts", nargs="*", metavar="NAME[:TYPE]")
    update.add_argument("--all", action="store_true", help="every record with an update available")
    update.add_argument("--force", action="store_true", help="replace local changes too")
    update.add_argument("--dry-run", action="store_true", help="report, write nothing")
    update.set_defaults(handler=_cmd_update)

    undeploy = commands.add_parser(
        "undeploy", parents=[common], help="remove deployed artifacts and their records"
    )
    _project_option(undeploy)
    undeploy.add_argument("artifacts", nargs="+", metavar="NAME[:TYPE]")
    undeploy.add_argument("--dry-run", action="store_true", help="report, write nothing")
    undeploy.set_defaults(handler=_cmd_undeploy)

    keep = commands.add_parser(
        "keep-local",
        parents=[common],
        help="accept local changes: record each modified copy's hash as its record's baseline",
        description="Record each NAME's local copy as its record's baseline, as SkillMeat "
        "records an accepted local modification (the copy is not touched); one all-or-nothing "
        "request. The record then shows SM141 if its collection's copy differs from the kept one.",
    )
    pull = commands.add_parser(
        "pull",
        parents=[common],
        help="copy locally modified artifacts back into their record's collection",
        description="Pull each NAME's local copy into its record's collection as SkillMeat's "
        "sync-pull does for a skill (the copy replaced wholesale, collection.toml untouched, its "
        "collection.lock entry rewritten), for every type and profile; the record then takes it "
        "as its baseline. Each NAME is its own all-or-nothing request.",
    )
    pull.add_argument(
        "--strategy",
        choices=["overwrite", "fork"],
        default="overwrite",
        help="overwrite (the default) replaces the collection's copy; fork keeps it, adds the "
        "local one beside it as NAME-fork (NAME-fork-2, ...) as SkillMeat's fork does, and "
        "leaves the record as it is",
    )
    for parser, handler in ((keep, _cmd_keep_local), (pull, _cmd_pull)):
        _project_option(parser)
        parser.add_argument("artifacts", nargs="+", metavar="NAME[:TYPE]")
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
        parser.set_defaults(handler=handler)

    status = commands.add_parser(
        "status", parents=[common], help="drift state of every record of a project"
    )
    _project_option(status, every_profile=True)
    status.set_defaults(handler=_cmd_status)


def _collections_index(args: argparse.Namespace, *, required: bool) -> CollectionIndex | None:
    from skillmeat_ls.lint import load_index
    from skillmeat_ls.locations import resolve_home

    home = resolve_home(args.home)
    notes: list[str] = []
    index = load_index(home, resolve_cache_path(cache=args.cache, home=args.home), notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if index is None and required:
        raise UserError(f"no SkillMeat collections under {home} (set --home or $SKILLMEAT_HOME)")
    return index


def _note_recovery(report: RecoveryReport | None) -> None:
    """Say on stderr what was done about a request a crash had interrupted."""
    if report is not None:
        print(f"note: {report.message}", file=sys.stderr)


def _settled_index(
    args: argparse.Namespace, profile: Profile | None, file_ops: FileOps, *, required: bool
) -> CollectionIndex | None:
    """The collections index, read once what interrupted requests left in the project's roots
    (``profile``'s, or every one) is settled: recovering a pull changes its collection."""
    from skillmeat_ls.deploy import DeployError, recover_project

    try:
        for report in recover_project(Path(args.project), profile, file_ops=file_ops):
            _note_recovery(report)
    except DeployError as exc:
        raise UserError(str(exc)) from exc
    return _collections_index(args, required=required)


def _done_line(result: RequestResult, item: ResultItem) -> str:
    """What a request's result prints about one item it did (or would do)."""
    from skillmeat_ls.deploy import DeployedItem, KeptItem, PulledItem, RemovedItem

    head, copy = f"{result.verb:<9} {item.type} {item.name}", f"{result.root}/{item.path}"
    if isinstance(item, RemovedItem):
        return f"{head}: {copy}" + (" (the copy was already missing)" if item.missing else "")
    assert isinstance(item, DeployedItem)
    digest = item.content_hash[:12]
    if isinstance(item, PulledItem):
        how = "now its record's baseline" if item.record_updated else "a fork; record unchanged"
        return f"{head}: {copy} -> {item.collection}:{item.collection_path} ({digest}, {how})"
    if isinstance(item, KeptItem):
        was = f", was {item.previous_hash[:12]}" if item.previous_hash else ""
        return f"{head}: {copy} is its record's baseline ({digest}{was})"
    origin = f"from {item.collection}" + (
        f", replacing the record from {item.replaced_from}" if item.replaced_from else ""
    )
    return "\n".join(
        [f"{head} -> {copy} ({origin}, {digest})", *(f"  warning: {w}" for w in item.warnings)]
    )


def _print_deploy_result(result: RequestResult, fmt: str) -> int:
    _note_recovery(result.recovered)
    if fmt == "json":
        print(json.dumps(result.as_dict(), indent=2))
        return EXIT_FINDINGS if result.failed else EXIT_OK
    for item in result.done:
        print(_done_line(result, item))
    for skipped in result.skipped:
        print(f"{'skipped':<9} {skipped.type} {skipped.name}: {skipped.reason}")
    for error in result.errors:
        print(f"{'error':<9} {error.type} {error.name}: {error.message}")
    would = "would be " if result.dry_run else ""
    target = f": {result.file}" if result.file is not None else ""
    print(
        f"{len(result.done)} {would}{result.verb}, {len(result.skipped)} skipped, "
        f"{plural(len(result.errors), 'error')}{target}"
    )
    if result.dry_run:
        print("dry run: nothing was written")
    return EXIT_FINDINGS if result.failed else EXIT_OK


def _cmd_deploy(args: argparse.Namespace) -> int:
    from skillmeat_ls.deploy import DeployError, deploy, file_ops_from_environment, resolve_request

    index = _collections_index(args, required=True)
    assert index is not None
    collection = index.get(args.collection)
    if collection is None:
        known = ", ".join(index.names()) or "none"
        raise UserError(f"unknown collection {args.collection!r} in {index.home} (known: {known})")
    try:
        pairs = resolve_request(collection, args.artifacts)
        result = deploy(
            Path(args.project),
            collection,
            pairs,
            overwrite=args.overwrite,
            dry_run=args.dry_run,
            profile=_profile(args),
            file_ops=file_ops_from_environment(),
        )
    except DeployError as exc:
        raise UserError(str(exc)) from exc
    return _print_deploy_result(result, args.format)


def _cmd_update(args: argparse.Namespace) -> int:
    from skillmeat_ls import deploy as engine

    if bool(args.artifacts) == bool(args.all):
        raise UserError("name the artifacts to update (NAME[:TYPE] ...) or give --all")
    project = Path(args.project)
    profile = _profile(args)
    file_ops = engine.file_ops_from_environment()
    index = _settled_index(args, profile, file_ops, required=True)
    try:
        if args.all:
            pairs = [
                (s.name, s.type)
                for s in engine.status(
                    project, index, profile, file_ops=file_ops, on_recovery=_note_recovery
                )
                if s.state == "update-available" and s.name is not None and s.type is not None
            ]
        else:
            pairs = engine.resolve_recorded(project, args.artifacts, profile)
        result = engine.update_many(
            project,
            index,
            pairs,
            force=args.force,
            dry_run=args.dry_run,
            profile=profile,
            file_ops=file_ops,
        )
    except engine.DeployError as exc:
        raise UserError(str(exc)) from exc
    return _print_deploy_result(result, args.format)


def _one_request_each(
    args: argparse.Namespace,
    profile: Profile | None,
    combined: RequestResult,
    request: Callable[[str, str], RequestResult],
) -> int:
    """Run ``request(name, type)`` for each recorded NAME of ``args`` (each its own request) and
    print what they did as one result."""
    from skillmeat_ls.deploy import DeployError, resolve_recorded

    try:
        for name, artifact_type in resolve_recorded(Path(args.project), args.artifacts, profile):
            combined.absorb(request(name, artifact_type))
    except DeployError as exc:
        raise UserError(str(exc)) from exc
    return _print_deploy_result(combined, args.format)


def _cmd_undeploy(args: argparse.Namespace) -> int:
    from skillmeat_ls import deploy as engine

    profile = _profile(args)
    assert profile is not None
    file_ops = engine.file_ops_from_environment()
    return _one_request_each(
        args,
        profile,
        engine.UndeployResult(dry_run=args.dry_run, profile=profile.id, root=profile.root_dir),
        lambda name, kind: engine.undeploy(
            Path(args.project), name, kind, dry_run=args.dry_run, profile=profile, file_ops=file_ops
        ),
    )


def _cmd_keep_local(args: argparse.Namespace) -> int:
    from skillmeat_ls import deploy as engine

    project, profile = Path(args.project), _profile(args)
    try:
        result = engine.keep_local_many(
            project,
            engine.resolve_recorded(project, args.artifacts, profile),
            profile=profile,
            dry_run=args.dry_run,
            file_ops=engine.file_ops_from_environment(),
        )
    except engine.DeployError as exc:
        raise UserError(str(exc)) from exc
    return _print_deploy_result(result, args.format)


def _cmd_pull(args: argparse.Namespace) -> int:
    from skillmeat_ls import deploy as engine

    profile = _profile(args)
    assert profile is not None
    file_ops = engine.file_ops_from_environment()
    index = _settled_index(args, profile, file_ops, required=True)
    return _one_request_each(
        args,
        profile,
        engine.PullResult(dry_run=args.dry_run, profile=profile.id, root=profile.root_dir),
        lambda name, kind: engine.pull(
            Path(args.project),
            index,
            name,
            kind,
            profile=profile,
            strategy=args.strategy,
            dry_run=args.dry_run,
            file_ops=file_ops,
        ),
    )


def _cmd_status(args: argparse.Namespace) -> int:
    from skillmeat_ls.deploy import DeployError, deployment_file, file_ops_from_environment, status
    from skillmeat_ls.workspace import project_files

    project = Path(args.project)
    profile = _profile(args, default_all=True)
    file_ops = file_ops_from_environment()
    index = _settled_index(args, profile, file_ops, required=False)
    try:
        records = status(project, index, profile, file_ops=file_ops, on_recovery=_note_recovery)
    except DeployError as exc:
        raise UserError(str(exc)) from exc
    if profile is not None:
        found = deployment_file(project, profile)
        files = [found] if found is not None else []
    else:
        files = project_files(project)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "file": str(files[0]) if files else None,
                    "files": [str(f) for f in files],
                    "records": [r.as_dict() for r in records],
                },
                indent=2,
            )
        )
        return EXIT_OK
    if not files:
        where = project / profile.root_dir if profile is not None else project / ".*"
        print(f"no deployment file in {where}")
        return EXIT_OK
    rows = [("STATE", "TYPE", "NAME", "COLLECTION", "PATH")]
    rows += [
        (r.state, r.type or "-", r.name or "-", r.collection or "-", f"{r.root}/{r.path or '-'}")
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        print("  ".join([*cells, row[4]]))
    print(f"{plural(len(records), 'record')} in {', '.join(str(f) for f in files)}")
    return EXIT_OK


