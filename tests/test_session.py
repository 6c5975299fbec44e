"""The server's session has one owner: it is changed on the engine thread only, and handlers on
the event loop read its immutable snapshot."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from skillmeat_ls.session import Session, Settings


def session(tmp_path: Path) -> Session:
    return Session(Settings(home=tmp_path / "home", cache_path=tmp_path / "cache.db"))


def on_other_thread(fn: object) -> BaseException | None:
    raised: list[BaseException] = []

    def run() -> None:
        try:
            fn()  # type: ignore[operator]
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return raised[0] if raised else None


def test_a_change_off_the_owner_thread_is_refused(tmp_path: Path) -> None:
    owned = session(tmp_path)
    file = tmp_path / "p" / ".claude" / ".skillmeat-deployed.toml"
    owned.analyze(file, "deployed = []\n", 1)  # this thread now owns the session
    for change in (
        lambda: owned.analyze(file, "deployed = []\n", 2),
        lambda: owned.forget(file),
        owned.reload_collections,
        owned.trust_file_events,
    ):
        failure = on_other_thread(change)
        assert isinstance(failure, RuntimeError), change
    assert owned.latest(file) is not None and owned.latest(file).version == 1  # untouched


def test_reading_the_snapshot_from_another_thread_is_fine(tmp_path: Path) -> None:
    owned = session(tmp_path)
    owned.reload_collections()
    seen: list[int] = []
    assert on_other_thread(lambda: seen.append(owned.snapshot.index_generation)) is None
    assert seen == [1]


def test_a_snapshot_is_immutable_and_replaced_whole(tmp_path: Path) -> None:
    owned = session(tmp_path)
    before = owned.snapshot
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.index_generation = 9  # type: ignore[misc]
    owned.reload_collections()
    after = owned.snapshot
    assert after is not before
    assert (before.index_generation, after.index_generation) == (0, 1)
    assert after.disk_generation > before.disk_generation  # the re-index dropped disk facts
