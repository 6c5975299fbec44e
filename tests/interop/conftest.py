"""Fixtures of the compatibility suite: real SkillMeat releases from PyPI, and worlds made by them.

Each release lives in its own cached venv (``${XDG_CACHE_HOME:-~/.cache}/skillmeat-ls/interop/
skillmeat-<version>/``), installed on first use under a file lock and reused afterwards; never
in skillmeat-ls's own environment. Where PyPI cannot be reached or the install fails, every test
that needs that release is skipped with pip's last line. ``SKILLMEAT_LS_INTEROP=0`` skips them all;
they carry the ``interop`` marker (``pytest -m "not interop"`` leaves them out). The samples test
(``test_interop_samples.py``) needs neither network nor SkillMeat.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import smreal

RELEASE_VERSIONS = ("0.74.0", "0.9.0")

_installed: dict[str, smreal.Installed] = {}
_unavailable: dict[str, str] = {}
_install_locks = {version: threading.Lock() for version in RELEASE_VERSIONS}
_used: set[str] = set()
_timings: dict[str, float] = {}
#: The releases whose world some collected test needs; their worlds are built side by side.
_world_versions: list[str] = []
_world_jobs: dict[str, Future[smreal.World]] = {}
_executor: ThreadPoolExecutor | None = None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "interop: runs a real SkillMeat release from PyPI (in a cached venv of its own)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here and "release" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.interop)


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:  # after -k / -m deselection
        callspec = getattr(item, "callspec", None)
        version = callspec.params.get("release") if callspec else None
        if "world" in getattr(item, "fixturenames", ()) and version not in (None, *_world_versions):
            _world_versions.append(version)


def _switched_off() -> bool:
    return os.environ.get("SKILLMEAT_LS_INTEROP", "1") == "0"


def _install(version: str) -> smreal.Installed:
    """Install (or find) one release, once per session whichever thread asks first."""
    with _install_locks[version]:
        if version in _unavailable:
            raise smreal.Unavailable(_unavailable[version])
        if version not in _installed:
            try:
                _installed[version] = smreal.ensure_installed(version)
            except smreal.Unavailable as exc:
                _unavailable[version] = f"SkillMeat {version} unavailable: {exc}"
                raise smreal.Unavailable(_unavailable[version]) from exc
        return _installed[version]


def installed_release(version: str) -> smreal.Installed:
    if _switched_off():
        pytest.skip("SKILLMEAT_LS_INTEROP=0: the real-SkillMeat suite is switched off")
    try:
        installed = _install(version)
    except smreal.Unavailable as exc:
        pytest.skip(str(exc))
    _used.add(version)
    return installed


def _build(version: str, root: Path) -> smreal.World:
    installed = _install(version)
    started = time.monotonic()
    built = smreal.build_world(installed, root)
    _timings[f"world {version}"] = time.monotonic() - started
    return built


@pytest.fixture(scope="session", params=RELEASE_VERSIONS)
def release(request: pytest.FixtureRequest) -> smreal.Installed:
    """Each SkillMeat release in turn (tests skip per release where one lacks a feature)."""
    return installed_release(request.param)


@pytest.fixture(scope="session")
def world(release: smreal.Installed, tmp_path_factory: pytest.TempPathFactory) -> smreal.World:
    """The shared world of one release (read-only for tests: copy it before writing).

    The first request starts every needed release's world at once, in threads: each is a
    sequence of SkillMeat processes, so two releases build side by side on two cores.
    """
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=len(RELEASE_VERSIONS), thread_name_prefix="world"
        )
    for version in [*_world_versions, release.version]:
        if version not in _world_jobs:
            root = tmp_path_factory.mktemp(f"world-{version}")
            _world_jobs[version] = _executor.submit(_build, version, root)
    try:
        return _world_jobs[release.version].result()
    except smreal.Unavailable as exc:
        pytest.skip(str(exc))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _executor is not None:
        for job in _world_jobs.values():
            job.cancel()
        _executor.shutdown(wait=True, cancel_futures=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if not (_used or _unavailable):
        return
    write = terminalreporter.write_line
    terminalreporter.section("SkillMeat compatibility")
    exercised = [v for v in RELEASE_VERSIONS if v in _used]
    write(f"SkillMeat releases exercised: {', '.join(exercised) or 'none'}")
    for version in exercised:
        item = _installed[version]
        if item.install_seconds is not None:
            write(
                f"  {version}: installed from PyPI in {item.install_seconds:.1f} s -> {item.venv}"
            )
        else:
            first = item.first_install_seconds
            took = f" (first install took {first:.1f} s)" if first is not None else ""
            write(f"  {version}: cached venv reused{took} -> {item.venv}")
    for reason in _unavailable.values():
        write(f"  not exercised: {reason}")
    for name, seconds in _timings.items():
        write(f"  {name} built with SkillMeat's CLI in {seconds:.1f} s")
