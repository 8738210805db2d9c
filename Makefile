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

# --no-compile: Python compiles the modules it imports when it first imports them, not
# every module of every package (compiling them all costs about 30 s of CPU).
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "error: $(PYTHON) is older than 3.10"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing cnncourse and its tools into $(VENV) (first run only)..."
	$(PIP) install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(PIP) install -q -c constraints.txt --no-compile -e ".[dev]" 2>&1 | grep -v "^WARNING: Location"; \
		test $${PIPESTATUS[0]} -eq 0
	@touch $(STAMP)

# The chapters execute first, two at a time (one per core: most set torch to one thread),
# into the execution cache that Jupyter Book reads (execute_notebooks: cache in _config.yml);
# the build then only renders them. Costliest chapters first, so that neither core idles at
# the end. A chapter that fails here is not cached: the build executes it again and reports
# the error as usual. Chapters already cached (unchanged since the last build) do not run.
CACHE    := _build/.jupyter_cache
COSTLY   := $(wildcard book/07_*.ipynb book/11_*.ipynb book/08_*.ipynb book/06_*.ipynb \
                       book/10_*.ipynb book/09_*.ipynb)
CHAPTERS := $(COSTLY) $(filter-out $(COSTLY),$(wildcard book/*.ipynb))

book: $(STAMP)
	@mkdir -p $(CACHE)
	JUPYTERCACHE=$(CACHE) $(BIN)/jcache notebook add $(CHAPTERS) > /dev/null
	JUPYTERCACHE=$(CACHE) $(BIN)/jcache project execute --executor local-parallel --timeout 600
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo
	@echo "Book built: open file://$(CURDIR)/_build/html/index.html"

# Two worker processes (pytest-xdist), one per core, whole files to each: the chapters, the
# tests that read their executions and the book build run in order as one unit (conftest.py).
JOBS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

# Library tests only (no notebooks, no book build): quick feedback while coding.
test-fast: $(STAMP)
	$(BIN)/python -m pytest cnncourse tests -m "not slow"

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV)
