"""The protocol edge: everything that knows LSP (pygls, lsprotocol) lives in this package.

- :mod:`~skillmeat_ls.lsp.server` — the server class: threads, scheduling, push/pull, start-up,
  the workspace scan, watchers, configuration.
- :mod:`~skillmeat_ls.lsp.handlers` — one handler per LSP feature, and :func:`create_server`.
- :mod:`~skillmeat_ls.lsp.commands` — ``workspace/executeCommand`` (SPEC §6).
- :mod:`~skillmeat_ls.lsp.convert` — URIs, ranges, diagnostics and edits to and from lsprotocol.

The engine (everything outside this package) never imports it; ruff's banned-API rule keeps
``pygls``/``lsprotocol`` imports inside it.
"""

from __future__ import annotations

import sys


def run(transport: str = "stdio", host: str = "127.0.0.1", port: int = 2087) -> None:
    """Serve until the client exits or closes the connection."""
    from skillmeat_ls.lsp.handlers import create_server

    # The engine thread is CPU-bound while it analyses; hand the GIL back to the event loop
    # more often than the default 5 ms, so reading the next message never waits long.
    sys.setswitchinterval(0.001)
    server = create_server()
    try:
        if transport == "tcp":
            server.start_tcp(host, port)
        else:
            server.start_io()
    finally:
        server.engine.shutdown(wait=False, cancel_futures=True)


__all__ = ["run"]
