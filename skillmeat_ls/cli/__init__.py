"""The ``skillmeat-ls`` command line: argument parsing and printing, nothing else.

Each sub-command calls the engine's plain functions; the project-changing ones live in
:mod:`skillmeat_ls.cli.deploying`. Errors reach the user as one line on stderr and a non-zero
exit status (the one place a :class:`~skillmeat_ls.errors.UserFacingError` becomes a message is
:func:`main`); the traceback is shown only with ``--log-level debug``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from skillmeat_ls import __version__
from skillmeat_ls.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UserError
from skillmeat_ls.cli.deploying import add_deploy_commands
from skillmeat_ls.errors import UserFacingError
from skillmeat_ls.locations import resolve_cache_path

log = logging.getLogger("skillmeat_ls")


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
    add_deploy_commands(commands, common)
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
