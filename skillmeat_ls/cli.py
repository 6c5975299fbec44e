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
from skillmeat_ls.document import UTF32
from skillmeat_ls.locations import resolve_cache_path

if TYPE_CHECKING:
    from skillmeat_ls.document import Document
    from skillmeat_ls.rules import Diagnostic

log = logging.getLogger("skillmeat_ls")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UserError(Exception):
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


SEVERITY_NAMES = {1: "error", 2: "warning", 3: "information", 4: "hint"}


def _diagnostic_json(document: Document, diagnostic: Diagnostic) -> dict[str, object]:
    start = document.position(diagnostic.span[0])
    end = document.position(diagnostic.span[1])
    line, column = document.position(diagnostic.span[0], encoding=UTF32)
    related = []
    for item in diagnostic.related:
        entry: dict[str, object] = {"message": item.message}
        if item.path is not None:
            entry["path"] = str(item.path)
        if item.span is not None:
            entry["line"] = document.position(item.span[0])[0] + 1
        related.append(entry)
    return {
        "code": diagnostic.code,
        "severity": SEVERITY_NAMES[diagnostic.severity],
        "message": diagnostic.message,
        "line": line + 1,
        "column": column + 1,
        "range": {
            "start": {"line": start[0], "character": start[1]},
            "end": {"line": end[0], "character": end[1]},
        },
        "related": related,
        "data": diagnostic.data,
    }


def _cmd_check(args: argparse.Namespace) -> int:
    from skillmeat_ls.lint import lint_paths, missing_paths
    from skillmeat_ls.locations import resolve_home
    from skillmeat_ls.rules import ALL_CODES, RuleSettings, Severity

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
    )
    errors, warnings = result.count(Severity.ERROR), result.count(Severity.WARNING)
    infos = result.count(Severity.INFORMATION) + result.count(Severity.HINT)
    if args.format == "json":
        files = []
        for report in result.reports:
            document = report.document
            files.append({
                "path": str(report.path),
                "error": report.error,
                "diagnostics": [_diagnostic_json(document, d) for d in report.diagnostics]
                if document is not None else [],
            })
        summary = {"files": len(result.reports), "errors": errors, "warnings": warnings,
                   "information": infos}
        print(json.dumps({"files": files, "notes": result.notes, "summary": summary}, indent=2))
        return EXIT_FINDINGS if result.failed else EXIT_OK
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for report in result.reports:
        if report.error is not None:
            print(f"{report.path}: error {report.error}")
            continue
        assert report.document is not None
        for d in report.diagnostics:
            line, column = report.document.position(d.span[0], encoding=UTF32)
            print(f"{report.path}:{line + 1}:{column + 1}: {SEVERITY_NAMES[d.severity]} "
                  f"{d.code} {d.message}")
    noun = "file" if len(result.reports) == 1 else "files"
    print(f"{len(result.reports)} deployment {noun} checked: {_plural(errors, 'error')}, "
          f"{_plural(warnings, 'warning')}, {infos} information")
    return EXIT_FINDINGS if result.failed else EXIT_OK


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _cmd_migrate(args: argparse.Namespace) -> int:
    from skillmeat_ls.document import parse_document
    from skillmeat_ls.lint import read_text
    from skillmeat_ls.migration import MigrationError, migrate_text
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


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog="skillmeat-ls",
        description="Language server and linter for SkillMeat deployment files.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"skillmeat-ls {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    cache = commands.add_parser(
        "cache", parents=[common], help="create, migrate or inspect the cache"
    )
    cache.add_argument("cache_command", choices=["init", "status"])
    cache.set_defaults(handler=_cmd_cache)

    check = commands.add_parser(
        "check", parents=[common], help="lint deployment files (directories are searched)"
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument(
        "--disable", action="append", default=[], metavar="CODE", help="skip a diagnostic code"
    )
    check.set_defaults(handler=_cmd_check)

    migrate = commands.add_parser(
        "migrate", parents=[common], help="convert a legacy deployment file to the unified schema"
    )
    migrate.add_argument("path", metavar="PATH")
    migrate.add_argument(
        "--write", action="store_true", help="rewrite the file atomically, keeping PATH.bak"
    )
    migrate.set_defaults(handler=_cmd_migrate)
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
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place errors become a message
        if args.log_level == "debug":
            raise
        prefix = "" if isinstance(exc, UserError) else f"{type(exc).__name__}: "
        print(f"skillmeat-ls: error: {prefix}{exc}", file=sys.stderr)
        return EXIT_USAGE
