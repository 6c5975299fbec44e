"""A real editor: the Claude Code CLI (from npm) runs the plugin in claude-plugin/.

Claude Code talks to a scripted stand-in of the Messages API on 127.0.0.1 (tests/claude_stub.py),
which plays the model: it has Claude Code edit files with its own Read and Edit tools, and reads
what Claude Code sends back. What is checked is what the model is shown: after an edit of a
deployment file, the skillmeat-ls diagnostics of that file (code and message) arrive in a later
request, as Claude Code's ``<new-diagnostics>`` block; an edited pyproject.toml gets none.

How Claude Code 2.1.328 does it, as observed: it starts a plugin's language server on the first
edit of a file whose extension the plugin maps (not on a Read), sends ``didOpen`` with the
edited text, and delivers what the server publishes asynchronously: the diagnostics go into the
first request it builds after they arrived, not necessarily the one carrying the edit's result.
So the stand-in keeps the conversation going (it re-reads the file) until they arrive, bounded.
Files under ``.claude/`` are "sensitive" to Claude Code: no allow rule lets ``-p`` edit them
(``acceptEdits`` and ``--allowedTools Edit(...)`` are refused), so the run uses
``--permission-mode bypassPermissions``, which as root also needs ``IS_SANDBOX=1``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from claude_stub import StubModel, request_text, text, tool_use
from filelock import FileLock
from lsp_support import World, make_world, record

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "claude-plugin"
VERSION = "2.1.328"
PACKAGE = f"@anthropic-ai/claude-code@{VERSION}"
SERVER = "plugin:skillmeat-ls:skillmeat-ls"  # Claude Code's name for the plugin's server
RUN_TIMEOUT = 120  # seconds, for one `claude -p` run


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skillmeat-ls" / f"claude-code-{VERSION}"


def _version_of(binary: Path) -> str:
    with tempfile.TemporaryDirectory() as home:
        try:
            done = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                                  timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": home})
        except (OSError, subprocess.SubprocessError) as error:
            return f"({error})"
    return (done.stdout or done.stderr).strip()


def _install() -> Path:
    """Claude Code from npm, in a shared cache directory; skip (with the reason) if impossible."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip(f"Claude Code comes from npm ({PACKAGE}): "
                    f"{'npm' if npm is None else 'node'} is not on PATH")
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    binary = target / "node_modules" / ".bin" / "claude"
    with FileLock(str(target) + ".lock", timeout=900):
        if binary.exists() and _version_of(binary).startswith(VERSION):
            return binary
        try:
            done = subprocess.run(
                [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund",
                 "--no-save", "--foreground-scripts", PACKAGE],
                capture_output=True, text=True, timeout=900,
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"npm install {PACKAGE} took more than 900 s")
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
            pytest.skip(f"npm install {PACKAGE} failed (exit {done.returncode}): {tail}")
        found = _version_of(binary)
        if not found.startswith(VERSION):
            # The package's postinstall puts the native binary in place; run it if npm did not.
            script = target / "node_modules" / "@anthropic-ai" / "claude-code" / "install.cjs"
            if script.exists():
                subprocess.run([node, str(script)], cwd=script.parent, capture_output=True,
                               timeout=300)
            found = _version_of(binary)
        if not found.startswith(VERSION):
            pytest.skip(f"{PACKAGE} installed, but `claude --version` says: {found[-300:]}")
    return binary


@pytest.fixture(scope="module")
def claude() -> Path:
    return _install()


def venv_bin() -> Path:
    """The directory of the project's `skillmeat-ls` executable, put on Claude Code's PATH."""
    for candidate in (Path(sys.executable).parent, ROOT / ".venv" / "bin"):
        if (candidate / "skillmeat-ls").exists():
            return candidate
    pytest.skip("no skillmeat-ls executable beside the Python running the tests "
                "(install the project: pip install -e .)")


def base_env(home: Path) -> dict[str, str]:
    """A clean environment (nothing of the caller's Claude Code or API settings leaks in)."""
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "LANG": "C.UTF-8",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        # Anything but the stand-in goes to a closed port on this machine, never out.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    if hasattr(os, "getuid") and os.getuid() == 0:
        env["IS_SANDBOX"] = "1"  # bypassPermissions is refused to root otherwise
    return env


def run_claude(claude: Path, project: Path, env: dict[str, str], debug_log: Path,
               output_format: str = "json",
               prompt: str = "Add a second record for the review command to the deployment file.",
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(claude), "-p", prompt, "--output-format", output_format, "--plugin-dir", str(PLUGIN),
         "--permission-mode", "bypassPermissions", "--no-session-persistence",
         "--debug-file", str(debug_log)],
        cwd=project, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )


def clean_project(world: World) -> tuple[Path, Path, str]:
    """A project whose deployment file has no finding: two records deployed from `default`."""
    project = world.project("app")
    review = record("review", "command", "default", "commands/review.md",
                    world.deploy_copy(project, "default", "commands/review.md"))
    helper = record("helper", "agent", "default", "agents/helper.md",
                    world.deploy_copy(project, "default", "agents/helper.md"))
    target = project / ".claude" / ".skillmeat-deployed.toml"
    target.write_text(review + helper)
    return project, target, review.rstrip("\n")


def check_json(target: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """What `skillmeat-ls check` finds in ``target`` (the same engine, on the command line)."""
    done = subprocess.run([str(venv_bin() / "skillmeat-ls"), "check", "--format", "json",
                           str(target)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    return [d for f in json.loads(done.stdout)["files"] for d in f["diagnostics"]]


def diagnostic_blocks(body: dict[str, Any]) -> list[str]:
    return re.findall(r"<new-diagnostics>.*?</new-diagnostics>", request_text(body), re.S)


def tool_result(body: dict[str, Any], tool_use_id: str) -> Any:
    """The content of the result of tool call ``tool_use_id`` in a request, or None."""
    for message in body.get("messages", []):
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_result" and block.get("tool_use_id") == tool_use_id:
                return block.get("content")
    return None


def wait_for_log(log: Path, pattern: str, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and re.search(pattern, log.read_text(errors="replace")):
            return True
        time.sleep(0.1)
    return False


def test_plugin_and_marketplace_validate_and_install(claude: Path, tmp_path: Path) -> None:
    env = {**base_env(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    (tmp_path / "home").mkdir()
    for path in (PLUGIN, ROOT):
        done = subprocess.run([str(claude), "plugin", "validate", str(path)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Validation passed" in done.stdout, done.stdout
    manifest = subprocess.run([str(claude), "plugin", "validate", str(PLUGIN)], env=env,
                              capture_output=True, text=True, timeout=60).stdout
    assert "lspServers: skillmeat-ls" in manifest
    assert "skills: skillmeat-ls:skillmeat-ls" in manifest

    # What `/plugin marketplace add` and `/plugin install` do, from the command line.
    for args in (["marketplace", "add", str(ROOT)], ["install", "skillmeat-ls@skillmeat-ls"]):
        done = subprocess.run([str(claude), "plugin", *args], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
    listed = subprocess.run([str(claude), "plugin", "list", "--json"], env=env,
                            capture_output=True, text=True, timeout=60)
    plugins = {p["id"]: p for p in json.loads(listed.stdout)}
    installed = plugins["skillmeat-ls@skillmeat-ls"]
    assert installed["enabled"] is True
    launcher = Path(installed["installPath"]) / "bin" / "skillmeat-ls-lsp"
    assert os.access(launcher, os.X_OK), f"{launcher} is not executable"


def test_model_sees_skillmeat_diagnostics_after_an_edit(claude: Path, tmp_path: Path) -> None:
    world = make_world(tmp_path / "world")
    project, target, first_record = clean_project(world)
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[project]\nname = "app"\nversion = "0.1.0"\n\n'
                         '[tool.ruff]\nline-length = 100\n')
    home = tmp_path / "home"
    home.mkdir()
    debug_log = tmp_path / "claude-debug.log"
    env = {**base_env(home), "PATH": f"{venv_bin()}:/usr/bin:/bin",
           "SKILLMEAT_HOME": str(world.home), "SKILLMEAT_LS_CACHE": str(world.cache)}
    assert check_json(target, env) == [], "the deployment file should start clean"
    server_cache = tmp_path / "server-cache.db"  # made by the server Claude Code starts

    def after_pyproject_edit(_: list[dict[str, Any]]) -> dict[str, Any]:
        # Let the server start and see pyproject.toml before the deployment file is touched.
        wait_for_log(debug_log, r"Sent didOpen for .*pyproject\.toml")
        time.sleep(1.5)
        return tool_use("Read", {"file_path": str(target)})

    skill = tool_use("Skill", {"skill": "skillmeat-ls:skillmeat-ls"})

    def until_diagnostics(conversation: list[dict[str, Any]]) -> dict[str, Any]:
        if tool_result(conversation[-1], skill["id"]) is not None:
            return text("The deployment file now records the review command twice (SM120).")
        if diagnostic_blocks(conversation[-1]):
            return skill  # what a model does next: look the code up in the plugin's skill
        time.sleep(0.5)
        return tool_use("Read", {"file_path": str(target)})

    edit = tool_use("Edit", {"file_path": str(target), "old_string": first_record,
                             "new_string": first_record + "\n\n" + first_record,
                             "replace_all": False})
    script: list[dict[str, Any] | Callable[[list[dict[str, Any]]], dict[str, Any]]] = [
        tool_use("Read", {"file_path": str(pyproject)}),
        tool_use("Edit", {"file_path": str(pyproject), "old_string": 'version = "0.1.0"',
                          "new_string": 'version = "0.1.1"', "replace_all": False}),
        after_pyproject_edit,
        edit,
        *[until_diagnostics] * 40,
    ]
    with StubModel(script, deadline=RUN_TIMEOUT) as stub:
        env["ANTHROPIC_BASE_URL"] = stub.base_url
        env["ANTHROPIC_API_KEY"] = "sk-ant-api03-skillmeat-ls-test-key-not-a-secret"
        done = run_claude(claude, project, {**env, "SKILLMEAT_LS_CACHE": str(server_cache)},
                          debug_log)
    log = debug_log.read_text(errors="replace") if debug_log.exists() else ""
    context = f"\nstderr: {done.stderr[-2000:]}\ndebug log tail:\n{log[-4000:]}"
    assert done.returncode == 0, done.stdout[-2000:] + context
    result = json.loads(done.stdout)
    assert result["is_error"] is False, result
    assert "SM120" in result["result"], result["result"]

    # The model is offered the plugin's skill and command, and the skill explains SM120.
    listing = request_text(stub.conversation[0])
    assert "skillmeat-ls:skillmeat-ls: What the SkillMeat diagnostics" in listing
    assert "skillmeat-ls:skillmeat-check:" in listing
    loaded = next(request_text(body) for body in stub.conversation
                  if tool_result(body, skill["id"]) is not None)
    assert "| SM120 | The same (name, type) is recorded twice" in loaded
    assert "skillmeat-ls deploy --project P --collection C NAME:TYPE" in loaded

    # The edits really happened, through Claude Code's tools.
    assert 'version = "0.1.1"' in pyproject.read_text()
    assert target.read_text().count('artifact_name = "review"') == 2
    expected = check_json(target, env)
    assert [d["code"] for d in expected] == ["SM120"], expected

    # Claude Code started skillmeat-ls (the plugin's launcher found it on PATH) and gave it both.
    assert f"LSP server instance started: {SERVER}" in log, context
    assert server_cache.exists(), "the server Claude Code started never opened its cache"
    assert re.search(rf"Sent didOpen for {re.escape(str(pyproject))}", log), context
    assert re.search(rf"Sent didOpen for {re.escape(str(target))}", log), context
    assert re.search(rf"Received diagnostics from {re.escape(SERVER)}: [1-9]\d* diagnostic\(s\) "
                     rf"for {re.escape(target.as_uri())}", log), context

    # pyproject.toml got nothing: no diagnostic published for it, none shown to the model.
    assert not re.search(rf"Received diagnostics from {re.escape(SERVER)}: [1-9]\d* "
                         rf"diagnostic\(s\) for \S*pyproject\.toml", log), context
    conversation = stub.conversation
    edit_result = next(i for i, body in enumerate(conversation)
                       if tool_result(body, edit["id"]) is not None)
    assert "error" not in str(tool_result(conversation[edit_result], edit["id"])).lower()
    blocks = [(i, block) for i, body in enumerate(conversation) for block in diagnostic_blocks(body)]
    assert blocks, "no request to the model carried <new-diagnostics>" + context
    assert all("pyproject.toml" not in block for _, block in blocks), blocks
    assert all(i >= edit_result for i, _ in blocks), (edit_result, blocks)

    # The first request that carries them has the file's findings, as `check` reports them.
    _, block = blocks[0]
    assert ".skillmeat-deployed.toml:" in block, block
    for diagnostic in expected:
        line = (f"[Line {diagnostic['line']}:{diagnostic['column']}] {diagnostic['message']} "
                f"[{diagnostic['code']}] (skillmeat)")
        assert line in block, f"{line!r} not in {block!r}"


def test_missing_executable_is_explained(claude: Path, tmp_path: Path) -> None:
    """Without skillmeat-ls, the launcher's install hint reaches Claude Code, not silence."""
    world = make_world(tmp_path / "world")
    project, target, first_record = clean_project(world)
    home = tmp_path / "home"
    home.mkdir()
    # A PATH with the tools the launcher and Claude Code use, and surely no skillmeat-ls.
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("sh", "dd", "sed", "cut", "tr", "wc", "cat", "head", "env", "git", "rg"):
        found = shutil.which(name, path="/usr/bin:/bin")
        if found:
            (tools / name).symlink_to(found)
    debug_log = tmp_path / "claude-debug.log"
    env = {**base_env(home), "PATH": str(tools)}

    def until_failed(_: list[dict[str, Any]]) -> dict[str, Any]:
        if wait_for_log(debug_log, rf"Failed to start LSP server '{re.escape(SERVER)}'", 0.5):
            return text("Edited.")
        return tool_use("Read", {"file_path": str(target)})

    script: list[dict[str, Any] | Callable[[list[dict[str, Any]]], dict[str, Any]]] = [
        tool_use("Read", {"file_path": str(target)}),
        tool_use("Edit", {"file_path": str(target), "old_string": first_record,
                          "new_string": first_record + "\n\n" + first_record,
                          "replace_all": False}),
        *[until_failed] * 30,
    ]
    with StubModel(script, deadline=RUN_TIMEOUT) as stub:
        env["ANTHROPIC_BASE_URL"] = stub.base_url
        env["ANTHROPIC_API_KEY"] = "sk-ant-api03-skillmeat-ls-test-key-not-a-secret"
        done = run_claude(claude, project, env, debug_log, output_format="text")
    log = debug_log.read_text(errors="replace") if debug_log.exists() else ""
    context = f"\nstderr: {done.stderr[-2000:]}\ndebug log tail:\n{log[-4000:]}"
    assert done.returncode == 0, done.stdout[-2000:] + context
    assert target.read_text().count('artifact_name = "review"') == 2
    # What `claude -p` prints: a notice on stderr (interactively: "The Errors tab in /plugin
    # may have the reason", and that tab shows the launcher's message).
    assert f'Language server "{SERVER}" couldn\'t start' in done.stderr, context
    # The launcher's line, as Claude Code keeps the server's stderr and the initialize error.
    hint = "install it with: pipx install skillmeat-ls (or: uv tool install skillmeat-ls"
    assert re.search(rf"\[LSP SERVER {re.escape(SERVER)}\] skillmeat-ls: .*not on PATH.*"
                     rf"{re.escape(hint)}", log), context
    assert re.search(rf"Failed to start LSP server '{re.escape(SERVER)}': skillmeat-ls: "
                     rf".*{re.escape(hint)}", log), context
    assert not any(diagnostic_blocks(body) for body in stub.conversation)


def test_check_command_runs_the_linter(claude: Path, tmp_path: Path) -> None:
    """The plugin's /skillmeat-ls:skillmeat-check command: its prompt reaches the model, and the
    `skillmeat-ls check` it asks for runs (through Claude Code's Bash tool) and finds SM120."""
    world = make_world(tmp_path / "world")
    project, target, first_record = clean_project(world)
    target.write_text(target.read_text().replace(first_record, first_record + "\n\n" + first_record))
    home = tmp_path / "home"
    home.mkdir()
    env = {**base_env(home), "PATH": f"{venv_bin()}:/usr/bin:/bin",
           "SKILLMEAT_HOME": str(world.home), "SKILLMEAT_LS_CACHE": str(world.cache)}
    run = tool_use("Bash", {"command": "skillmeat-ls check", "description": "Lint SkillMeat files"})
    script: list[dict[str, Any] | Callable[[list[dict[str, Any]]], dict[str, Any]]] = [
        run, text("One error: SM120, the review command is recorded twice.")]
    with StubModel(script, deadline=RUN_TIMEOUT) as stub:
        env["ANTHROPIC_BASE_URL"] = stub.base_url
        env["ANTHROPIC_API_KEY"] = "sk-ant-api03-skillmeat-ls-test-key-not-a-secret"
        done = run_claude(claude, project, env, tmp_path / "claude-debug.log",
                          prompt="/skillmeat-ls:skillmeat-check")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert len(stub.conversation) == 2, [request_text(b)[-500:] for b in stub.conversation]
    assert "Run `skillmeat-ls check" in request_text(stub.conversation[0])
    output = str(tool_result(stub.conversation[1], run["id"]))
    assert ".claude/.skillmeat-deployed.toml:10:1: error SM120 command 'review' is recorded twice" \
        in output, output
