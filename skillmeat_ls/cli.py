"""The ``skillmeat-ls`` command line: argument parsing and printing, nothing else.

Each sub-command calls the engine's plain functions. Errors reach the user as one line on
stderr and a non-zero exit status; the traceback is shown only with ``--log-level debug``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from skillmeat_ls import __version__
from skillmeat_ls.locations import resolve_cache_path

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
