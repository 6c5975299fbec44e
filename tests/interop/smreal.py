"""The real SkillMeat, installed from PyPI into a cached virtual environment of its own.

Nothing here imports SkillMeat: it is driven through its CLI (``<venv>/bin/skillmeat``) and, for
its Python API, through ``skillmeat_side.py`` run by that venv's interpreter. skillmeat-ls is run
as a process too, as a user runs it.

Neither release reads ``$SKILLMEAT_HOME`` (0.74.0 and 0.9.0 hard-code ``Path.home() /
".skillmeat"``), so every SkillMeat process gets a temporary ``HOME`` (and XDG directories under
it) and the SkillMeat home is always ``$HOME/.skillmeat``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 only
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SIDE = HERE / "skillmeat_side.py"

#: Environment variables of the caller that must not leak into either tool.
_SCRUB = ("SKILLMEAT_", "SKILLMEAT_LS_", "PYTHON", "VIRTUAL_ENV", "XDG_")


class Unavailable(Exception):
    """The release cannot be had here (no network, a failed install); the tests skip with it."""


@dataclass(frozen=True)
class Release:
    """What differs between the SkillMeat releases this suite runs, found by running them."""

    version: str
    #: Packages the wheel needs but does not declare (0.9.0's CLI imports httpx at start, which
    #: its wheel lists only in the ``dev`` extra).
    extra_requirements: tuple[str, ...]
    init_args: tuple[str, ...]
    #: ``add`` without a prompt: 0.74.0 has ``-y``; 0.9.0 only ``--dangerously-skip-permissions``.
    add_flags: tuple[str, ...]
    deploy_flags: tuple[str, ...]
    #: How ``add`` replaces an artifact's content in the collection (0.74.0 also has
    #: ``--update`` for single-file types; ``--force`` removes and re-adds).
    replace_flag_file: str
    replace_flag_dir: str
    codex_root: str
    #: ``WriteTransaction``: flock on ``.<name>.skillmeat-lock`` siblings (new in 0.74.0).
    takes_write_lock: bool
    #: ``skillmeat.cache`` imports (0.9.0's wheel lacks ``skillmeat.core.parsers``).
    cache_importable: bool
    #: ``write_deployments`` leaves ``deployed = []`` in an emptied root (0.9.0 deletes the file).
    keeps_empty_file: bool
    #: ``deploy --profiles a,b`` (0.74.0); 0.9.0 needs one call per profile.
    multi_profile_deploy: bool
    #: ``skillmeat profile add`` (custom profiles, recorded with ``platform = "other"``).
    custom_profiles: bool


RELEASES: dict[str, Release] = {
    "0.74.0": Release(
        version="0.74.0",
        extra_requirements=(),
        init_args=("init", "--no-input", "--name", "default"),
        add_flags=("-y",),
        deploy_flags=("--overwrite", "--no-recipe-preview", "--non-interactive"),
        replace_flag_file="--update",
        replace_flag_dir="--force",
        codex_root=".agents",
        takes_write_lock=True,
        cache_importable=True,
        keeps_empty_file=True,
        multi_profile_deploy=True,
        custom_profiles=True,
    ),
    "0.9.0": Release(
        version="0.9.0",
        extra_requirements=("httpx",),
        init_args=("init", "--name", "default"),
        add_flags=("--dangerously-skip-permissions",),
        deploy_flags=("--overwrite",),
        replace_flag_file="--force",
        replace_flag_dir="--force",
        codex_root=".codex",
        takes_write_lock=False,
        cache_importable=False,
        keeps_empty_file=False,
        multi_profile_deploy=False,
        custom_profiles=False,
    ),
}


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skillmeat-ls" / "interop"


@dataclass
class Installed:
    release: Release
    venv: Path
    #: Seconds this session spent installing; None when a cached venv was reused.
    install_seconds: float | None
    #: What the first install took, as recorded in the venv (for the summary).
    first_install_seconds: float | None

    @property
    def version(self) -> str:
        return self.release.version

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def exe(self) -> Path:
        return self.venv / "bin" / "skillmeat"


MARKER = "skillmeat-ls-interop.json"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    env.update(extra)
    return env


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    # pip's warnings about this machine's index configuration are noise; prefer its ERROR line.
    return (errors or lines or ["(no output)"])[-1]


def _importable(venv: Path, version: str) -> bool:
    probe = (
        "import importlib.metadata as m, skillmeat.utils.filesystem;print(m.version('skillmeat'))"
    )
    try:
        out = subprocess.run(
            [str(venv / "bin" / "python"), "-I", "-c", probe],
            capture_output=True,
            text=True,
            timeout=120,
            env=_clean_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == version


def ensure_installed(version: str) -> Installed:
    """The venv of ``skillmeat==version``, installed from PyPI on first use (under a file lock)."""
    release = RELEASES[version]
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / f"skillmeat-{version}"
    try:
        lock = FileLock(str(root / f"skillmeat-{version}.lock"), timeout=1800)
        lock.acquire()
    except Timeout as exc:
        raise Unavailable(
            f"another run has been installing skillmeat=={version} for 30 min"
        ) from exc
    try:
        marker = venv / MARKER
        if marker.exists() and _importable(venv, version):
            recorded = json.loads(marker.read_text())
            if recorded.get("extra_requirements") == list(release.extra_requirements):
                return Installed(release, venv, None, recorded.get("install_seconds"))
        shutil.rmtree(venv, ignore_errors=True)
        started = time.monotonic()
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)],
            capture_output=True,
            text=True,
            timeout=600,
            env=_clean_env(),
        )
        if made.returncode != 0:
            raise Unavailable(f"python -m venv failed: {_last_line(made.stderr + made.stdout)}")
        try:
            pip = subprocess.run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--quiet",
                    f"skillmeat=={version}",
                    *release.extra_requirements,
                ],
                capture_output=True,
                text=True,
                timeout=1500,
                env=_clean_env(),
            )
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(venv, ignore_errors=True)
            raise Unavailable(f"pip install skillmeat=={version} timed out") from exc
        if pip.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise Unavailable(
                f"pip install skillmeat=={version} failed: {_last_line(pip.stderr + pip.stdout)}"
            )
        seconds = time.monotonic() - started
        if not _importable(venv, version):
            raise Unavailable(f"skillmeat=={version} installed but does not import")
        marker.write_text(
            json.dumps(
                {
                    "version": version,
                    "extra_requirements": list(release.extra_requirements),
                    "install_seconds": round(seconds, 1),
                    "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                }
            )
        )
        return Installed(release, venv, seconds, seconds)
    finally:
        lock.release()


# --- running SkillMeat --------------------------------------------------------------------------


class SkillMeatError(AssertionError):
    pass


@dataclass
class SkillMeat:
    """One real SkillMeat release with one ``HOME``."""

    installed: Installed
    home: Path
    log: list[str] = field(default_factory=list)

    @property
    def release(self) -> Release:
        return self.installed.release

    @property
    def version(self) -> str:
        return self.installed.version

    @property
    def smhome(self) -> Path:
        """The SkillMeat home (``$HOME/.skillmeat``): skillmeat-ls's ``--home``."""
        return self.home / ".skillmeat"

    def env(self) -> dict[str, str]:
        return _clean_env(
            HOME=str(self.home),
            NO_COLOR="1",
            TERM="dumb",
            COLUMNS="200",
            LANG="C.UTF-8",
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
        )

    def argv(self, *args: str | Path) -> list[str]:
        return [str(self.installed.exe), *map(str, args)]

    def cli(
        self, *args: str | Path, cwd: Path | None = None, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        self.home.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            cwd=cwd or self.home,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
        self.log.append(f"$ skillmeat {' '.join(map(str, args))}  -> {result.returncode}")
        if check and result.returncode != 0:
            raise SkillMeatError(
                f"skillmeat {self.version} {' '.join(map(str, args))} exited {result.returncode}\n"
                f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
            )
        return result

    def popen(self, *args: str | Path, cwd: Path | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd or self.home,
            env=self.env(),
            stdin=subprocess.DEVNULL,
        )

    def side_argv(self, command: str, out: Path) -> list[str]:
        return [str(self.installed.python), "-I", str(SIDE), command, str(out)]

    def side_popen(self, command: str, out: Path, request: dict[str, Any]) -> subprocess.Popen[str]:
        """``skillmeat_side.py`` started in the background (its answer lands in ``out``)."""
        request_file = out.with_suffix(".request.json")
        request_file.write_text(json.dumps(request))
        with open(request_file, encoding="utf-8") as stdin:
            return subprocess.Popen(
                self.side_argv(command, out),
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=self.env(),
                cwd=self.home,
            )

    def py(self, command: str, request: dict[str, Any], *, timeout: float = 600) -> Any:
        """One call of ``skillmeat_side.py`` in SkillMeat's interpreter; its JSON answer."""
        out = self.home.parent / f".side-{os.getpid()}-{time.monotonic_ns()}.json"
        result = subprocess.run(
            self.side_argv(command, out),
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.home,
            timeout=timeout,
        )
        if result.returncode != 0 or not out.exists():
            raise SkillMeatError(
                f"SkillMeat {self.version} API call {command!r} failed ({result.returncode}):\n"
                f"{result.stderr[-4000:]}"
            )
        try:
            return json.loads(out.read_text())
        finally:
            out.unlink()

    # Convenience wrappers for the recipes of the reference notes (§8), per release.

    def add(self, kind: str, path: Path, *extra: str, collection: str | None = None) -> None:
        args = ["add", kind, str(path), *self.release.add_flags, *extra]
        if collection:
            args += ["-c", collection]
        self.cli(*args)

    def deploy(
        self,
        project: Path,
        *names: str,
        artifact_type: str | None = None,
        collection: str | None = None,
        profile: str | None = None,
        profiles: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        args: list[str] = ["deploy", *names, "-p", str(project), *self.release.deploy_flags]
        if artifact_type:
            args += ["-t", artifact_type]
        if collection:
            args += ["-c", collection]
        if profile:
            args += ["--profile", profile]
        if profiles:
            args += ["--profiles", ",".join(profiles)]
        args += ["--format", "json"]
        result = self.cli(*args)
        report = _json_object(result.stdout)
        if not report or report.get("status") != "success":
            raise SkillMeatError(f"skillmeat deploy {names}: {result.stdout[-2000:]}")
        return report

    def undeploy(self, project: Path, name: str, artifact_type: str, profile: str | None = None):
        args = ["undeploy", name, "-p", str(project), "-t", artifact_type, "--force"]
        if profile:
            args += ["--profile", profile]
        return self.cli(*args, "--format", "json")

    def status(self, project: Path, profile: str | None = None) -> dict[str, str]:
        args = ["status", "-p", str(project)]
        if profile:
            args += ["--profile", profile]
        return parse_status(self.cli(*args).stdout)

    def read(self, project: Path) -> dict[str, Any]:
        return self.py("read", {"project": str(project)})

    def snapshot(self, project: Path) -> dict[str, Any]:
        """``read`` and ``truth`` in one call: ``{"files", "all", "truth"}``."""
        return self.py("read", {"project": str(project), "home": str(self.smhome)})

    def truth(self, project: Path) -> list[dict[str, Any]]:
        return self.py("truth", {"project": str(project), "home": str(self.smhome)})["records"]

    def copy_to(self, home: Path) -> SkillMeat:
        """The same release with a copy of this ``HOME`` (collections, config, cache)."""
        shutil.copytree(self.home, home, symlinks=True)
        return SkillMeat(self.installed, home)


def _json_object(text: str) -> dict[str, Any] | None:
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


_SECTION = re.compile(r"^(Locally modified|Synced|Outdated) \((\d+)\):$")
_STATE = {"Locally modified": "modified", "Synced": "synced", "Outdated": "outdated"}


def parse_status(text: str) -> dict[str, str]:
    """``skillmeat status -p``'s deployment part: key (``name::type[::profile]``) -> state."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if "Checking deployment status" in line)
    except StopIteration as exc:
        raise SkillMeatError(f"no deployment status in:\n{text}") from exc
    found: dict[str, str] = {}
    state = None
    expected: dict[str, int] = {}
    for line in lines[start + 1 :]:
        match = _SECTION.match(line.strip())
        if match:
            state = _STATE[match.group(1)]
            expected[state] = int(match.group(2))
        elif line.startswith("  ") and state is not None and line.strip():
            found[line.strip()] = state
        elif not line.strip():
            continue
        else:
            state = None
    for state, count in expected.items():
        got = sum(1 for s in found.values() if s == state)
        if got != count:
            raise SkillMeatError(
                f"status section {state}: {count} announced, {got} parsed:\n{text}"
            )
    return found


def status_by_identity(
    status: dict[str, str], records: list[dict[str, Any]]
) -> dict[tuple[str, str, str], str]:
    """SkillMeat's status keys resolved to (name, type, profile).

    SkillMeat prints ``name::type`` when one record has that pair and ``name::type::profile``
    when several profiles do (``compute_deployment_statuses_batch``); ``records`` (from
    ``truth``/``read``) says which profile a two-part key is.
    """
    out: dict[tuple[str, str, str], str] = {}
    for key, state in status.items():
        parts = key.split("::")
        if len(parts) == 3:
            out[(parts[0], parts[1], parts[2])] = state
            continue
        name, kind = parts
        profiles = [r["profile"] for r in records if r["name"] == name and r["type"] == kind]
        if len(profiles) != 1:
            raise SkillMeatError(f"status key {key!r} matches {profiles}")
        out[(name, kind, profiles[0])] = state
    return out


# --- running skillmeat-ls -----------------------------------------------------------------------


def skillmeat_ls_argv() -> list[str]:
    exe = Path(sys.executable).parent / "skillmeat-ls"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "skillmeat_ls"]


def ls_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKILLMEAT_", "SKILLMEAT_LS_"))}
    env["SKILLMEAT_HOME"] = "/nonexistent-skillmeat-home"  # only --home counts
    return env


def ls_command(*args: str | Path, home: Path | None, cache: Path) -> list[str]:
    argv = [*skillmeat_ls_argv()]
    if home is not None:
        argv += ["--home", str(home)]
    argv += ["--cache", str(cache), *map(str, args)]
    return argv


def skillmeat_ls(
    *args: str | Path, home: Path | None, cache: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ls_command(*args, home=home, cache=cache),
        capture_output=True,
        text=True,
        env=ls_env(),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def ls_json(*args: str | Path, home: Path | None, cache: Path, ok: tuple[int, ...] = (0,)) -> Any:
    result = skillmeat_ls(*args, "--format", "json", home=home, cache=cache)
    assert result.returncode in ok, (
        f"skillmeat-ls {' '.join(map(str, args))} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    try:
        return json.loads(result.stdout)
    except ValueError as exc:
        raise AssertionError(f"not JSON: {result.stdout[-2000:]}\n{result.stderr[-2000:]}") from exc


def ls_profile(item: dict[str, Any]) -> str:
    """The profile of a skillmeat-ls status item (``claude_code`` when it names none)."""
    for key in ("profile", "profile_id", "deployment_profile_id"):
        if item.get(key):
            return str(item[key])
    return "claude_code"


# --- deployment files ---------------------------------------------------------------------------


def tracking_files(project: Path) -> dict[str, Path]:
    """Every ``<root>/.skillmeat-deployed.toml`` of ``project``, by root name."""
    return {
        p.name: p / ".skillmeat-deployed.toml"
        for p in sorted(project.glob(".*"))
        if p.is_dir() and (p / ".skillmeat-deployed.toml").is_file()
    }


def record_lines(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(1-based header line, record) of each ``[[deployed]]`` record of a file."""
    text = path.read_text(encoding="utf-8")
    records = tomllib.loads(text).get("deployed", [])
    headers = [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == "[[deployed]]"]
    assert len(headers) == len(records), f"{path}: {len(headers)} headers, {len(records)} records"
    return list(zip(headers, records, strict=True))


def diagnostics_by_record(report: dict[str, Any], path: Path) -> tuple[dict, list]:
    """A check report's diagnostics of ``path`` per (name, type); those outside any record."""
    rows = record_lines(path)
    by_record: dict[tuple[str, str], list[str]] = {
        (r["artifact_name"], r["artifact_type"]): [] for _, r in rows
    }
    outside: list[str] = []
    files = [f for f in report["files"] if Path(f["path"]).resolve() == path.resolve()]
    assert files, f"skillmeat-ls did not check {path}: {[f['path'] for f in report['files']]}"
    for diagnostic in files[0]["diagnostics"]:
        owner = [r for line, r in rows if line <= diagnostic["line"]]
        if not owner:
            outside.append(f"{diagnostic['code']} {diagnostic['message']}")
            continue
        r = owner[-1]
        by_record[(r["artifact_name"], r["artifact_type"])].append(diagnostic["code"])
    return by_record, outside


def expected_drift(truth: dict[str, Any]) -> str | None:
    """SM140/141/142 (or None) from SkillMeat's own hashes of both copies and the record."""
    modified = truth["project_hash"] is not None and truth["project_hash"] != truth["recorded"]
    updated = truth["collection_hash"] is not None and truth["collection_hash"] != truth["recorded"]
    if modified and updated:
        return "SM142"
    if modified:
        return "SM140"
    if updated:
        return "SM141"
    return None


# --- the world: a SkillMeat home and projects, made by SkillMeat's own CLI -----------------------

#: Source artifacts: a skill whose name has a space and nested folders (SkillMeat 0.74.0 and
#: 0.9.0 both accept the space: the name comes from the folder), a skill and a command of one
#: name, an agent, and another collection's command of that name.
SOURCES: dict[str, dict[str, bytes]] = {
    "my skill": {
        "SKILL.md": b"---\nname: my skill\ndescription: A skill with a space\n---\n# My skill\n",
        "scripts/deep/run.sh": b"#!/bin/sh\necho hi\n",
        "notes/windows.txt": b"line one\r\nline two\r\n",
        "assets/logo.bin": bytes(range(256)),
    },
    "review": {"SKILL.md": b"---\nname: review\ndescription: Review skill\n---\n# Review\n"},
    "review.md": b"---\ndescription: Review command\n---\n# /review\n",
    "helper.md": b"---\nname: helper\ndescription: Helper agent\n---\n# Helper\n",
    "team/review.md": b"---\ndescription: Team review command\n---\n# /review (team)\n",
}

LOCAL_EDIT = b"\nLocal edit.\n"


@dataclass
class World:
    """A home with collections ``default`` and ``team`` and one project with every drift state.

    ``project`` ends with (claude_code = ``.claude``, codex = the release's codex root):

    ====================  ==============  ==============
    artifact              claude_code     codex
    ====================  ==============  ==============
    ``my skill`` skill    update (SM141)  conflict (SM142)
    ``review`` skill      in sync         -
    ``review`` command    modified (140)  modified (140), from ``team``
    ``helper`` agent      conflict (142)  update (SM141)
    ====================  ==============  ==============

    Where the release has custom profiles (0.74.0), the ``review`` command is also deployed to the
    custom profile ``mytool`` (root ``.mytool``, extends ``claude_code``) and modified there.
    """

    sm: SkillMeat
    root: Path
    src: Path
    project: Path
    status_text: str = ""

    @property
    def roots(self) -> dict[str, str]:
        roots = {"claude_code": ".claude", "codex": self.sm.release.codex_root}
        if self.sm.release.custom_profiles:
            roots[CUSTOM_PROFILE] = CUSTOM_ROOT
        return roots

    @property
    def expected_drift(self) -> dict[tuple[str, str, str], str | None]:
        return {key: code for key, code in WORLD_DRIFT.items() if key[0] in self.roots}


def write_sources(src: Path) -> None:
    for name, content in SOURCES.items():
        if isinstance(content, dict):
            for rel, data in content.items():
                target = src / name / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        else:
            target = src / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def make_collections(sm: SkillMeat, src: Path) -> None:
    """``init`` + ``collection create team`` + the ``add``s: both collections, as SkillMeat makes them."""
    sm.cli(*sm.release.init_args, cwd=sm.home)
    sm.cli("collection", "create", "team")
    # Absolute paths: a relative one is read as a GitHub spec ("src/my skill" -> api.github.com).
    sm.add("skill", src / "my skill")
    sm.add("skill", src / "review")
    sm.add("command", src / "review.md")
    sm.add("agent", src / "helper.md")
    sm.add("command", src / "team" / "review.md", collection="team")


def deploy_both_profiles(sm: SkillMeat, project: Path, *names: str, **kwargs: Any) -> None:
    if sm.release.multi_profile_deploy:
        sm.deploy(project, *names, profiles=("claude_code", "codex"), **kwargs)
    else:
        sm.deploy(project, *names, **kwargs)
        sm.deploy(project, *names, profile="codex", **kwargs)


def build_world(installed: Installed, root: Path) -> World:
    sm = SkillMeat(installed, root / "home")
    src = root / "src"
    write_sources(src)
    make_collections(sm, src)
    project = root / "project"
    project.mkdir()
    deploy_both_profiles(sm, project, "my skill", "helper")
    sm.deploy(project, "review", artifact_type="skill")
    sm.deploy(project, "review", artifact_type="command")
    sm.deploy(project, "review", artifact_type="command", collection="team", profile="codex")
    edited = [
        project / ".claude" / "commands" / "review.md",
        project / ".claude" / "agents" / "helper.md",
        project / sm.release.codex_root / "commands" / "review.md",
        project / sm.release.codex_root / "skills" / "my skill" / "SKILL.md",
    ]
    if sm.release.custom_profiles:
        sm.cli(
            "profile", "add", CUSTOM_PROFILE, "--extends", "claude_code",
            "--root-dir", CUSTOM_ROOT, "--supported-types", "skill,command,agent",
        )  # fmt: skip
        sm.deploy(project, "review", artifact_type="command", profile=CUSTOM_PROFILE)
        edited.append(project / CUSTOM_ROOT / "commands" / "review.md")
    # The collection changes, through SkillMeat: a new agent and a new skill version.
    (src / "helper.md").write_bytes(SOURCES["helper.md"].replace(b"# Helper", b"# Helper v2"))  # type: ignore[union-attr]
    sm.add("agent", src / "helper.md", sm.release.replace_flag_file)
    with open(src / "my skill" / "scripts" / "deep" / "run.sh", "ab") as handle:
        handle.write(b"echo v2\n")
    sm.add("skill", src / "my skill", sm.release.replace_flag_dir)
    # Local edits in every profile root.
    for path in edited:
        with open(path, "ab") as handle:
            handle.write(LOCAL_EDIT)
    world = World(sm, root, src, project)
    world.status_text = sm.cli("status", "-p", str(project)).stdout
    return world


CUSTOM_PROFILE = "mytool"
CUSTOM_ROOT = ".mytool"

#: What the world's project must show, by (root kind, name, type): from its recipe above.
WORLD_DRIFT: dict[tuple[str, str, str], str | None] = {
    ("claude_code", "my skill", "skill"): "SM141",
    ("claude_code", "review", "skill"): None,
    ("claude_code", "review", "command"): "SM140",
    ("claude_code", "helper", "agent"): "SM142",
    ("codex", "my skill", "skill"): "SM142",
    ("codex", "review", "command"): "SM140",
    ("codex", "helper", "agent"): "SM141",
    (CUSTOM_PROFILE, "review", "command"): "SM140",
}
