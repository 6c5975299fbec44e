# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_HOME  := examples/home
DEMO_CACHE := examples/.cache/skillmeat-ls.db

.PHONY: demo test test-deps lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(STAMP)
	@echo "== skillmeat-ls cache init   (SkillMeat home: $(DEMO_HOME))"
	@$(BIN)/skillmeat-ls --home $(DEMO_HOME) --cache $(DEMO_CACHE) cache init
	@echo
	@echo "== skillmeat-ls check examples/workspace   (one project per kind of problem)"
	@$(BIN)/skillmeat-ls --home $(DEMO_HOME) --cache $(DEMO_CACHE) check examples/workspace \
		|| echo "(check exits 1 when it finds errors, as a CI job would want)"
	@echo
	@echo "== skillmeat-ls migrate examples/workspace/legacy/.claude/.skillmeat-deployed.toml"
	@$(BIN)/skillmeat-ls migrate examples/workspace/legacy/.claude/.skillmeat-deployed.toml
	@echo "== skillmeat-ls cache status"
	@$(BIN)/skillmeat-ls --home $(DEMO_HOME) --cache $(DEMO_CACHE) cache status

# ruff (with the protocol-boundary and lazy-import rules in pyproject.toml) and mypy (its
# settings there too); both must be clean.
lint: $(STAMP)
	$(BIN)/ruff check skillmeat_ls tests benchmarks
	$(BIN)/mypy

# Everything: Python tests (incl. end-to-end LSP, headless Neovim and Emacs), then the extension's
# type check, unit tests and packaging, then the .vsix in a real VS Code.
test: lint test-deps
	$(BIN)/python -m pytest
	$(MAKE) test-extension
	$(MAKE) test-e2e

# Debian's neovim, emacs-nox and elpa-eglot for the real-editor tests (each skipped, with the
# reason, where it cannot be had).
test-deps:
	@command -v nvim >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && apt-get install -y -qq neovim) >/dev/null 2>&1; } \
		|| echo "note: neovim could not be installed; the Neovim test will be skipped"
	@{ command -v emacs >/dev/null 2>&1 && emacs --batch --eval "(kill-emacs (if (require 'eglot nil t) 0 1))" >/dev/null 2>&1; } \
		|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && apt-get install -y -qq emacs-nox elpa-eglot) >/dev/null 2>&1; } \
		|| echo "note: emacs-nox/elpa-eglot could not be installed; the Emacs test will be skipped"

bench: $(STAMP)
	$(BIN)/python benchmarks/cache_init.py
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/deploy.py
	$(BIN)/python -m pip install --quiet tombi
	$(BIN)/python benchmarks/lsp_latency.py

clean:
	rm -rf $(VENV) examples/.cache build dist *.egg-info

# --- VS Code extension (vscode-extension/) ---------------------------------------------------------
EXT       := vscode-extension
EXT_STAMP := $(EXT)/node_modules/.installed

.PHONY: extension test-extension test-e2e

$(EXT_STAMP): $(EXT)/package.json $(EXT)/package-lock.json
	cd $(EXT) && npm ci --no-audit --no-fund
	touch $@

# Builds vscode-extension/skillmeat-ls-<version>.vsix (bundles the server, pure Python).
extension: $(EXT_STAMP) $(STAMP)
	cd $(EXT) && npm run build && SKILLMEAT_BUNDLE_PYTHON=$(CURDIR)/$(BIN)/python npm run package

# Type check, unit tests, package, and a check of what the .vsix holds.
test-extension: $(EXT_STAMP) $(STAMP)
	cd $(EXT) && npm run typecheck && npm test
	cd $(EXT) && SKILLMEAT_BUNDLE_PYTHON=$(CURDIR)/$(BIN)/python npm run package && npm run check-vsix

# The .vsix in a real VS Code (code-server + headless Chromium); installs what is missing.
test-e2e: extension
	cd $(EXT) && npm run test:e2e
