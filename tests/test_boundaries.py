"""The package's boundaries, checked in fresh interpreters: the engine never loads the protocol
libraries, the server is built (and answers ``initialize``) before SQLAlchemy is imported, and a
warm start (a cache at head, nothing changed) never imports it."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from test_warm_start import build

import skillmeat_ls


def _loaded_after(code: str, roots: tuple[str, ...]) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {roots!r})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.splitlines()[-1]))


def _engine_modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(skillmeat_ls.__path__, "skillmeat_ls.")
        if not info.name.startswith("skillmeat_ls.lsp")
        and ".migrations" not in info.name  # Alembic's scripts, run by Alembic only
        and info.name != "skillmeat_ls.__main__"
    ]
    assert "skillmeat_ls.deploy.transaction" in names and "skillmeat_ls.rules.analyzer" in names
    return names


def test_the_engine_never_loads_pygls_or_lsprotocol() -> None:
    imports = "\n".join(f"import {name}" for name in _engine_modules())
    assert _loaded_after(imports, ("pygls", "lsprotocol")) == []


def test_the_server_is_built_without_sqlalchemy_or_alembic() -> None:
    code = "from skillmeat_ls.lsp.handlers import create_server\ncreate_server()"
    assert _loaded_after(code, ("sqlalchemy", "alembic")) == []
    # and the check is able to fail: the cache's engines are SQLAlchemy's
    assert "sqlalchemy" in _loaded_after("import skillmeat_ls.cache.engine", ("sqlalchemy",))


def test_a_warm_start_loads_neither_sqlalchemy_nor_alembic(tmp_path: Path) -> None:
    """What a restart costs in memory and time: reading the cache takes the sqlite3 module only;
    SQLAlchemy comes in when something is to be written (the first start: able to fail). The
    opened file's text findings, kept the first time, are not written again."""
    file = build(tmp_path)
    code = (
        "from pathlib import Path\n"
        "from skillmeat_ls.session import Session, Settings\n"
        f"session = Session(Settings(home=Path({str(tmp_path / 'home')!r}),"
        f" cache_path=Path({str(tmp_path / 'cache.db')!r})))\n"
        "session.start()\n"
        f"file = Path({str(file)!r})\n"
        "session.first_look(file, file.read_text(), 'utf-16')\n"
        "assert session.analyze(file, file.read_text(), 1).diagnostics == []\n"
        "session.keep_text_findings(file, 'utf-16')\n"  # kept already: nothing to write
        "session.save_learned()\n"
        "session.close()"
    )
    assert "sqlalchemy" in _loaded_after(code, ("sqlalchemy",))  # cold: created, then written
    assert _loaded_after(code, ("sqlalchemy", "alembic")) == []
