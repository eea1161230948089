# Two commands do all the set-up on a fresh machine:
#   make book   - create .venv, install everything, build the HTML book into _build/html
#   make test   - create .venv if missing, run every test (mfbook unit tests + every notebook)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: book test test-unit test-notebooks lab slides bench clean env

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	./tools/fetch_assets.sh
	MFBOOK_STATIC=1 $(BIN)/jupyter-book build -W -n --keep-going .
	@echo "The book is in _build/html: open _build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider --nbval-lax tests chapters

test-unit: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider --nbval-lax chapters

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab chapters/

bench: $(STAMP)
	$(BIN)/python benchmarks/limit.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/widgets.py

clean:
	rm -rf _build .pytest_cache
