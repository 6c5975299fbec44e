"""The server's processes: however the server dies, its worker processes die with it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from lsp_support import SERVER, make_world, record

from skillmeat_ls.scan import MIN_FILES_FOR_WORKERS


def _frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {what}")
        time.sleep(0.1)


def test_kill_9_of_the_server_takes_its_workers_with_it(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    for number in range(MIN_FILES_FOR_WORKERS + 10):  # enough files for the worker processes
        project = world.project(f"p{number}")
        (project / ".claude" / ".skillmeat-deployed.toml").write_text(
            record("helper", "agent", "default", "agents/helper.md", "0" * 64))
    server = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    assert server.stdin is not None
    try:
        server.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": os.getpid(), "rootUri": world.workspace.as_uri(), "capabilities": {},
            "workspaceFolders": [{"uri": world.workspace.as_uri(), "name": "w"}],
            "initializationOptions": world.options()}}))
        server.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        server.stdin.flush()
        _wait(lambda: len(_children(server.pid)) >= 2, 60, "the server starts worker processes")
        workers = _children(server.pid)
    finally:
        server.kill()
        server.wait()
    _wait(lambda: not any(_alive(pid) for pid in workers), 30,
          f"workers {sorted(p for p in workers if _alive(p))} outlive the killed server")
