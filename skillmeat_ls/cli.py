"""The ``skillmeat-ls`` command line: argument parsing and printing, nothing else.

Each sub-command calls the engine's plain functions. Errors reach the user as one line on
stderr and a non-zero exit status; the traceback is shown only with ``--log-level debug``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls import __version__
from skillmeat_ls.errors import UserFacingError
from skillmeat_ls.locations import resolve_cache_path

if TYPE_CHECKING:
    from skillmeat_ls.deploy import FileOps, RecoveryReport
    from skillmeat_ls.deploy.results import RequestResult, ResultItem
    from skillmeat_ls.index import CollectionIndex
    from skillmeat_ls.profiles import Profile

log = logging.getLogger("skillmeat_ls")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UserError(UserFacingError):
    """A problem the user can fix (bad path, bad argument): printed as one line, exit 2."""


def _global_options() -> argparse.ArgumentParser:
    # Accepted both before and after the sub-command; SUPPRESS keeps a later default from
    # overwriting an earlier explicit value.
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--home", default=argparse.SUPPRESS, help="SkillMeat home directory")
    parent.add_argument("--cache", default=argparse.SUPPRESS, help="cache database path")
    parent.add_argument(
        "--log-level",
        default=argparse.SUPPRESS,
        choices=["debug", "info", "warning", "error"],
        help="logging verbosity (debug also shows tracebacks)",
    )
    return parent


def _cmd_cache(args: argparse.Namespace) -> int:
    from skillmeat_ls.cache.store import initialize_cache, inspect_cache

    path = resolve_cache_path(cache=args.cache, home=args.home)
    if args.cache_command == "init":
        cache = initialize_cache(path)
        cache.close()
        status = cache.status
        if status.foreign:  # not ours: nothing was done to it, and nothing will be
            raise UserError(status.message)
        print(f"{status.path}: {status.state.value} ({status.message})")
        if status.state.value != "ready":
            return EXIT_FINDINGS
        return EXIT_OK
    report = inspect_cache(path)
    print(f"path:     {report.path}")
    print(f"revision: {report.revision or '-'}")
    print(f"head:     {report.head}")
    print(f"state:    {report.state} ({report.message})")
    if report.table_counts:
        print("tables:")
        width = max(len(name) for name in report.table_counts)
        for name, count in report.table_counts.items():
            print(f"  {name:<{width}}  {count}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from skillmeat_ls.lint import lint_paths, missing_paths
    from skillmeat_ls.locations import resolve_home
    from skillmeat_ls.report import RENDERERS, fails
    from skillmeat_ls.rules import ALL_CODES, RuleSettings

    paths = [Path(p) for p in args.paths] or [Path.cwd()]
    missing = missing_paths(paths)
    if missing:
        raise UserError(f"no such file or directory: {missing[0]}")
    unknown = sorted(set(args.disable) - set(ALL_CODES))
    if unknown:
        raise UserError(f"unknown diagnostic code {unknown[0]} (known: SM100-SM142)")
    result = lint_paths(
        paths,
        resolve_home(args.home),
        resolve_cache_path(cache=args.cache, home=args.home),
        RuleSettings(disabled=frozenset(args.disable)),
        shard=args.shard,
    )
    if args.format in ("text", "github"):
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
    print(RENDERERS[args.format](result))
    if any(report.error for report in result.reports):
        return EXIT_USAGE  # a file could not be read: the run says nothing about it
    return EXIT_FINDINGS if fails(result, args.fail_level) else EXIT_OK


def _shard(value: str) -> tuple[int, int]:
    """``K/N`` with 1 <= K <= N."""
    try:
        k, n = (int(part) for part in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not K/N (for example 1/4)") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"shard {value!r}: K must be between 1 and N")
    return k, n


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _cmd_migrate(args: argparse.Namespace) -> int:
    from skillmeat_ls.document import parse_document
    from skillmeat_ls.migration import MigrationError, migrate_text
    from skillmeat_ls.workspace import read_text
    from skillmeat_ls.writer import atomic_write

    path = Path(args.path)
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    text = read_text(path)
    try:
        migrated = migrate_text(text)
    except MigrationError as exc:
        raise UserError(f"{path}: {exc}") from exc
    if not args.write:
        sys.stdout.write(migrated)
        return EXIT_OK
    document = parse_document(text)
    if document.legacy_header is None and not document.legacy_records():
        print(f"{path}: already in the unified schema; nothing to do")
        return EXIT_OK
    backup = atomic_write(path, migrated, backup=True)
    print(f"{path}: migrated to the unified schema (the legacy file is kept as {backup})")
    return EXIT_OK


# --- deploy, update, undeploy, keep-local, pull, status -----------------------------------------


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


def _add_deploy_commands(
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
        f"{_plural(len(result.errors), 'error')}{target}"
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
    print(f"{_plural(len(records), 'record')} in {', '.join(str(f) for f in files)}")
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace) -> int:
    from skillmeat_ls.doctor import DoctorError, diagnose, repair
    from skillmeat_ls.locations import resolve_home

    report = diagnose(resolve_home(args.home), skillmeat=args.skillmeat)
    if args.skillmeat and report.facts is None and report.skillmeat_problem:
        raise UserError(f"--skillmeat {args.skillmeat}: {report.skillmeat_problem}")
    if args.repair and report.verdict.value != "healthy" and report.state.value != "missing":
        if report.facts is None:
            raise UserError(f"--repair needs the real SkillMeat: {report.skillmeat_problem}")
        try:
            report = repair(report)  # through the SkillMeat the diagnosis ran
        except DoctorError as exc:
            if args.format == "json":
                print(json.dumps({**report.as_dict(), "repair_error": str(exc)}, indent=2))
            else:
                print(report.render_text())
            print(
                f"skillmeat-ls: repair failed, {report.path} is unchanged: {exc}", file=sys.stderr
            )
            return EXIT_FINDINGS
    elif args.repair and args.format == "text":
        print(f"nothing to repair: {report.state_text}")
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.render_text())
    return report.exit_code


def _transport_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")


def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    from skillmeat_ls.lsp import run

    # The server's settings come from the client; CLI flags seed the defaults.
    if args.home:
        os.environ["SKILLMEAT_HOME"] = str(args.home)
    if args.cache:
        os.environ["SKILLMEAT_LS_CACHE"] = str(args.cache)
    run("tcp" if args.tcp else "stdio", args.host, args.port)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog="skillmeat-ls",
        description="Language server and linter for SkillMeat deployment files.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"skillmeat-ls {__version__}")
    _transport_options(parser)
    parser.set_defaults(handler=_cmd_serve)  # no sub-command: the language server
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve", parents=[common], help="run the language server (stdio, or --tcp --port N)"
    )
    _transport_options(serve)
    serve.set_defaults(handler=_cmd_serve)

    cache = commands.add_parser(
        "cache", parents=[common], help="create, migrate or inspect the cache"
    )
    cache.add_argument("cache_command", choices=["init", "status"])
    cache.set_defaults(handler=_cmd_cache)

    check = commands.add_parser(
        "check", parents=[common], help="lint deployment files (directories are searched)"
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    check.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    check.add_argument(
        "--disable", action="append", default=[], metavar="CODE", help="skip a diagnostic code"
    )
    check.add_argument(
        "--fail-level",
        choices=["error", "warning", "information"],
        default="error",
        help="exit 1 when a finding at this severity or above is found (default: error)",
    )
    check.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="check only the files of shard K of N (by a hash of their path; stable everywhere)",
    )
    check.set_defaults(handler=_cmd_check)

    doctor = commands.add_parser(
        "doctor",
        parents=[common],
        help="inspect SkillMeat's own cache.db (<home>/cache/cache.db), read-only; --repair "
        "rebuilds it through SkillMeat's own migrations, keeping the user's rows",
    )
    doctor.add_argument(
        "--repair",
        action="store_true",
        help="keep a timestamped copy, rebuild the database with the installed SkillMeat, copy "
        "collections, groups, memberships, tags and ratings back, swap it in",
    )
    doctor.add_argument(
        "--skillmeat",
        metavar="PATH",
        help="the installed SkillMeat: its `skillmeat` executable or a Python that imports "
        "skillmeat (default: $SKILLMEAT_LS_SKILLMEAT, else `skillmeat` on PATH)",
    )
    doctor.add_argument("--format", choices=["text", "json"], default="text")
    doctor.set_defaults(handler=_cmd_doctor)

    migrate = commands.add_parser(
        "migrate", parents=[common], help="convert a legacy deployment file to the unified schema"
    )
    migrate.add_argument("path", metavar="PATH")
    migrate.add_argument(
        "--write", action="store_true", help="rewrite the file atomically, keeping PATH.bak"
    )
    migrate.set_defaults(handler=_cmd_migrate)
    _add_deploy_commands(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, default in (("home", None), ("cache", None), ("log_level", "warning")):
        if not hasattr(args, name):
            setattr(args, name, default)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place errors become a message
        if args.log_level == "debug":
            raise
        prefix = "" if isinstance(exc, UserFacingError) else f"{type(exc).__name__}: "
        print(f"skillmeat-ls: error: {prefix}{exc}", file=sys.stderr)
        return EXIT_USAGE
