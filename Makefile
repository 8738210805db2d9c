# Two commands do all the set-up on a fresh machine with python3 (3.10+) and make:
#   make book   build the book (executes every chapter notebook) into _build/html
#   make test   run the whole test suite (library, notebooks, grading, book build)
# Both create .venv on first use; later runs reuse it and reinstall only when
# pyproject.toml or constraints.txt change.

SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cnncourse-installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: all env book test test-fast clean distclean

all: book

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "error: $(PYTHON) is older than 3.10"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing cnncourse and its tools into $(VENV) (first run only)..."
	$(PIP) install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PIP) install -q -c constraints.txt -e ".[dev]" 2>&1 | grep -v "^WARNING: Location"; \
		test $${PIPESTATUS[0]} -eq 0
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo
	@echo "Book built: open file://$(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

# Library tests only (no notebooks, no book build): quick feedback while coding.
test-fast: $(STAMP)
	$(BIN)/python -m pytest cnncourse tests -m "not slow"

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV)
