"""LSP latency, side by side: skillmeat-ls, tombi (a native TOML server) and a bare pygls floor.

    python benchmarks/lsp_latency.py [--edits N] [--sizes 100,1000,10000] [--no-tombi]

One client drives each server over stdio (answering its requests as an editor does) on the same
generated unified files: spawn → ``initialize`` result, ``didOpen`` → first diagnostics,
``didChange`` (a one-line edit) → diagnostics (median and p90), and peak RSS. skillmeat-ls runs
with a real SkillMeat home (the file's collection) and the deployed copies on disk, so every
semantic rule — collections, disk, drift — runs on every edit.

skillmeat-ls runs twice on each fixture: *cold* (a new cache: every collection artifact and every
deployed copy is hashed) and *warm* (a restart on the cache the cold run left: only what changed
would be hashed again).

A second table: a workspace of 1,000 projects of 50 records each, cold and warm, from
``initialized`` until every file's diagnostics arrived, and the latency of an edit in an open file
meanwhile. A third: ``skillmeat-ls check`` over the same workspace from the CLI, cold and warm,
next to ``tombi lint`` on the same files (which checks TOML syntax only).

tombi comes from PyPI (``pip install tombi``) and runs as ``tombi lsp --offline``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import FOLDERS, TYPES, one_line_edit

from skillmeat_ls.writer import render_unified

HERE = Path(__file__).resolve().parent


# --- a minimal LSP client -------------------------------------------------------------------------


@dataclass
class Client:
    process: asyncio.subprocess.Process
    workspace: Path
    next_id: int = 0
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    published: dict[str, list[tuple[float, int | None]]] = field(default_factory=dict)
    waiters: list[tuple[str, int | None, asyncio.Future[float]]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    #: When skillmeat-ls said its cache and index are ready (``skillmeat/status``).
    ready_at: float | None = None

    async def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await self.process.stdin.drain()

    async def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await asyncio.wait_for(future, timeout=300)

    async def notify(self, method: str, params: Any) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics_for(self, uri: str, version: int | None) -> asyncio.Future[float]:
        """A future set to the time diagnostics for ``uri`` (at ``version``, if given) arrive."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters.append((uri, version, future))
        return future

    async def read_loop(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            header = await stream.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            message = json.loads(await stream.readexactly(length))
            await self.dispatch(message)

    async def dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" not in message:
            future = self.pending.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result(message.get("result"))
            return
        method = message.get("method")
        if "id" in message:  # a request from the server: answer as an editor would
            result: Any = None
            if method == "workspace/configuration":
                result = [None for _ in message["params"]["items"]]
            elif method == "workspace/workspaceFolders":
                result = [{"uri": self.workspace.as_uri(), "name": "bench"}]
            await self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            return
        if method == "skillmeat/status" and message["params"].get("state") != "initializing":
            self.ready_at = self.ready_at or time.perf_counter()
        if method == "textDocument/publishDiagnostics":
            now = time.perf_counter()
            params = message["params"]
            self.published.setdefault(params["uri"], []).append((now, params.get("version")))
            for waiter in list(self.waiters):
                uri, version, future = waiter
                if uri == params["uri"] and (version is None or params.get("version") == version):
                    self.waiters.remove(waiter)
                    if not future.done():
                        future.set_result(now)


async def spawn(command: list[str], workspace: Path, options: dict[str, Any] | None
                ) -> tuple[Client, float]:
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, limit=64 * 1024 * 1024,
    )
    client = Client(process, workspace)
    client.reader = asyncio.create_task(client.read_loop())
    await client.request("initialize", {
        "processId": os.getpid(),
        "rootUri": workspace.as_uri(),
        "workspaceFolders": [{"uri": workspace.as_uri(), "name": "bench"}],
        "capabilities": {
            "textDocument": {"synchronization": {"didSave": True},
                             "publishDiagnostics": {"versionSupport": True}},
            "workspace": {"configuration": True, "workspaceFolders": True,
                          "didChangeWatchedFiles": {"dynamicRegistration": True}},
            "window": {"workDoneProgress": True},
        },
        "initializationOptions": options,
    })
    elapsed = time.perf_counter() - start
    await client.notify("initialized", {})
    return client, elapsed


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def stop(client: Client) -> None:
    try:
        await asyncio.wait_for(client.request("shutdown", None), timeout=10)
        await client.notify("exit", None)
        await asyncio.wait_for(client.process.wait(), timeout=10)
    except (TimeoutError, ConnectionError, BrokenPipeError):
        client.process.kill()
    if client.reader is not None:
        client.reader.cancel()


# --- fixtures -------------------------------------------------------------------------------------


def build_fixture(root: Path, records: int, project_name: str = "project",
                  with_home: bool = True) -> Path:
    """A project with ``records`` deployed artifacts (on disk, hashes right) and, with
    ``with_home``, the SkillMeat home holding each one; returns the deployment file."""
    claude = root / "workspace" / project_name / ".claude"
    collection = root / "home" / "collections" / "default"
    items, manifest = [], ['[collection]\nname = "default"\nversion = "1.0.0"\n'
                           'created = "2026-01-01T00:00:00"\nupdated = "2026-01-01T00:00:00"\n']
    for i in range(records):
        artifact_type = TYPES[i % len(TYPES)]
        name = f"artifact-{i:05d}"
        rel = FOLDERS[artifact_type].format(name)
        body = f"# {name}\n\nGenerated for the latency benchmark.\n".encode()
        for base in (claude, collection) if with_home else (claude,):
            target = base / rel / "SKILL.md" if artifact_type == "skill" else base / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        if artifact_type == "skill":
            digest = hashlib.sha256(b"SKILL.md" + body).hexdigest()
        else:
            digest = hashlib.sha256(body).hexdigest()
        items.append({"artifact_name": name, "artifact_type": artifact_type,
                      "from_collection": "default", "deployed_at": "2026-01-05T15:07:49.157370",
                      "artifact_path": rel, "content_hash": digest, "local_modifications": False,
                      "version_lineage": [digest], "merge_base_snapshot": digest})
        manifest.append(f'[[artifacts]]\nname = "{name}"\ntype = "{artifact_type}"\n'
                        f'path = "{rel}"\norigin = "local"\nadded = "2026-01-01T00:00:00"\n')
    if with_home:
        (collection / "collection.toml").write_text("\n".join(manifest))
    path = claude / ".skillmeat-deployed.toml"
    path.write_text(render_unified(items))
    return path


# --- the runs -------------------------------------------------------------------------------------


@dataclass
class Row:
    server: str
    records: int
    initialize_ms: float
    open_ms: float
    #: didOpen until diagnostics computed with the collections index (skillmeat-ls publishes a
    #: first set before its index is ready, then the complete one).
    complete_ms: float
    change_median_ms: float
    change_p90_ms: float
    rss_mb: float


async def measure(name: str, command: list[str], path: Path, records: int, edits: int,
                  options: dict[str, Any] | None) -> Row:
    workspace = path.parents[2]
    client, init_s = await spawn(command, workspace, options)
    uri, text = path.as_uri(), path.read_text()
    if name.startswith("skillmeat-ls"):
        await asyncio.sleep(0)  # the server indexes in the background; opening does not wait
    opened = client.diagnostics_for(uri, 1)
    start = time.perf_counter()
    await client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "toml", "version": 1, "text": text}})
    open_s = await asyncio.wait_for(opened, timeout=300) - start
    complete_s = open_s
    if name.startswith("skillmeat-ls"):
        while client.ready_at is None:
            await asyncio.sleep(0.005)
        ready = client.ready_at
        while not any(at >= ready for at, _ in client.published.get(uri, [])):
            await asyncio.sleep(0.005)
        complete_s = min(at for at, _ in client.published[uri] if at >= ready) - start
    await asyncio.sleep(1.0)  # let background indexing settle before timing edits
    edited = one_line_edit(text)
    line = text[: text.find("local_modifications = false", len(text) // 2)].count("\n")
    timings = []
    for version in range(2, edits + 2):
        new_line = "local_modifications = true" if version % 2 == 0 else "local_modifications = false"
        done = client.diagnostics_for(uri, version)
        start = time.perf_counter()
        await client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": 0},
                                          "end": {"line": line, "character": 27}},
                                "text": new_line}],
        })
        timings.append(await asyncio.wait_for(done, timeout=300) - start)
    del edited
    rss = peak_rss_mb(client.process.pid)
    await stop(client)
    p90 = sorted(timings)[max(0, int(0.9 * len(timings)) - 1)]
    return Row(name, records, init_s * 1000, open_s * 1000, complete_s * 1000,
               statistics.median(timings) * 1000, p90 * 1000, rss)


async def workspace_scale(root: Path, files: list[Path], cache: Path) -> tuple[float, float]:
    """Seconds from ``initialized`` until every file's diagnostics arrived, and the median
    latency (ms) of edits to an open file made meanwhile."""
    options = {"home": str(root / "home"), "cachePath": str(cache)}
    command = [sys.executable, "-m", "skillmeat_ls", "--stdio"]
    client, _ = await spawn(command, root / "workspace", options)
    start = time.perf_counter()
    uris = {f.as_uri() for f in files}
    first = files[0]
    text = first.read_text()
    await client.notify("textDocument/didOpen", {"textDocument": {
        "uri": first.as_uri(), "languageId": "toml", "version": 1, "text": text}})
    edit_times = []
    version = 1
    while not uris <= set(client.published):
        version += 1
        done = client.diagnostics_for(first.as_uri(), version)
        sent = time.perf_counter()
        await client.notify("textDocument/didChange", {
            "textDocument": {"uri": first.as_uri(), "version": version},
            "contentChanges": [{"text": text + "\n" * (version % 2)}]})
        edit_times.append(await asyncio.wait_for(done, timeout=300) - sent)
        await asyncio.sleep(0.05)
        if time.perf_counter() - start > 120:
            break
    elapsed = time.perf_counter() - start
    await stop(client)
    return elapsed, statistics.median(edit_times) * 1000 if edit_times else float("nan")


def timed_run(command: list[str]) -> float:
    """Seconds ``command`` takes (its output discarded; a failure to start is an error)."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


async def workspace_tables(projects: int, records: int, tombi: str | None) -> None:
    """The workspace in the server (cold, warm) and from the CLI (cold, warm, tombi lint)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = [build_fixture(root, records, f"p{i:04d}", with_home=i == 0)
                 for i in range(projects)]
        os.sync()  # let the kernel write the fixture out before anything is timed
        label = f"{projects:,} projects x {records} records"
        print(f"\nworkspace of {label}: seconds from initialized to every file's diagnostics")
        print(f"{'server':<20}{'all diagnostics s':>18}{'edit meanwhile ms':>19}")
        for run in ("cold", "warm"):
            elapsed, edit_ms = await workspace_scale(root, files, root / "server-cache.db")
            print(f"{'skillmeat-ls ' + run:<20}{elapsed:>18.2f}{edit_ms:>19.1f}")

        check = [sys.executable, "-m", "skillmeat_ls", "--home", str(root / "home"),
                 "--cache", str(root / "check-cache.db"), "check", str(root / "workspace")]
        rows = [(f"skillmeat-ls check {run}", timed_run(check)) for run in ("cold", "warm")]
        if tombi is not None:
            rows.append(("tombi lint", timed_run([tombi, "lint", "--offline", "--quiet",
                                                  *map(str, files)])))
        print(f"\nthe CLI over the same {len(files):,} files (tombi lint: TOML syntax only)")
        print(f"{'command':<26}{'seconds':>9}{'vs tombi':>10}")
        floor = rows[-1][1] if tombi is not None else None
        for name, seconds in rows:
            ratio = f"{seconds / floor:.2f}x" if floor else "-"
            print(f"{name:<26}{seconds:>9.2f}{ratio:>10}")


async def main_async(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    tombi = shutil.which("tombi") or str(Path(sys.executable).with_name("tombi"))
    ours = [sys.executable, "-m", "skillmeat_ls", "--stdio"]
    servers: list[tuple[str, list[str]]] = [
        ("skillmeat-ls cold", ours),  # a new cache
        ("skillmeat-ls warm", ours),  # a restart on the cache the cold run left
        ("bare pygls", [sys.executable, str(HERE / "bare_server.py")]),
    ]
    have_tombi = not args.no_tombi and Path(tombi).exists()
    if have_tombi:
        servers.append(("tombi", [tombi, "lsp", "--offline"]))
    elif not args.no_tombi:
        print("tombi not found (pip install tombi); its rows are left out\n")
    rows: list[Row] = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = build_fixture(Path(tmp), size)
            os.sync()
            options = {"home": str(Path(tmp) / "home"), "cachePath": str(Path(tmp) / "cache.db")}
            for name, command in servers:
                ours_here = name.startswith("skillmeat-ls")
                rows.append(await measure(name, command, path, size, args.edits,
                                          options if ours_here else None))
    print(f"{'server':<19}{'records':>8}{'init ms':>9}{'open ms':>9}{'complete':>10}"
          f"{'edit med':>10}{'edit p90':>10}{'RSS MB':>8}")
    for row in rows:
        print(f"{row.server:<19}{row.records:>8}{row.initialize_ms:>9.0f}{row.open_ms:>9.0f}"
              f"{row.complete_ms:>10.0f}{row.change_median_ms:>10.1f}{row.change_p90_ms:>10.1f}"
              f"{row.rss_mb:>8.0f}")
    print("open: didOpen to first diagnostics; complete: to diagnostics with the collections "
          "index (the same for the others)")
    by = {(r.server, r.records): r for r in rows}
    print("\nskillmeat-ls warm / tombi (open, edit median and p90, RSS) and / bare pygls (RSS):")
    for size in sizes:
        warm, peer, bare = (by.get((server, size)) for server in
                            ("skillmeat-ls warm", "tombi", "bare pygls"))
        parts = [f"{size:>6} records:"]
        if warm and peer:
            parts.append(f"open {warm.open_ms / peer.open_ms:.2f}x")
            parts.append(f"edit {warm.change_median_ms / peer.change_median_ms:.2f}x")
            parts.append(f"p90 {warm.change_p90_ms / peer.change_p90_ms:.2f}x")
            parts.append(f"RSS {warm.rss_mb / peer.rss_mb:.2f}x")
        if warm and bare:
            parts.append(f"RSS {warm.rss_mb / bare.rss_mb:.2f}x floor")
        print("  ".join(parts))
    if args.workspace:
        await workspace_tables(1000, 50, tombi if have_tombi else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--no-tombi", action="store_true")
    parser.add_argument("--no-workspace", dest="workspace", action="store_false")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
