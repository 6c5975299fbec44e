"""The package's boundaries, checked in fresh interpreters: the engine never loads the protocol
libraries, and the server is built (and answers ``initialize``) before SQLAlchemy is imported."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

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
    # and the check is able to fail: opening the cache does load SQLAlchemy
    assert "sqlalchemy" in _loaded_after("import skillmeat_ls.cache.store", ("sqlalchemy",))
