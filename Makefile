# Two commands do all the set-up on a fresh machine:
#   make book   - create .venv, install everything, build the HTML book into _build/html
#   make test   - create .venv if missing, run every test (mfbook unit tests + every notebook)
# and, for readers and lecturers:
#   make lab           JupyterLab on the chapters, from the same environment
#   make slides        one reveal.js deck per chapter in _build/slides (works offline)
#   make test-browser  open the built pages in headless Chromium and check them (needs chromium)
#   make pdf           print the built book to PDF in _build/pdf, one per page and book.pdf, and check
#                      them (lecture handouts; needs chromium)
#   make bench         the benchmarks, side by side with the authors' training recipe
#   make publish       the book, for upload: refused unless the public home (repository.url in
#                      _config.yml) has the release tag (tools/public_home.py --publish; needs the network)
#   make clean         remove what the builds made (keeps .venv and the npm download cache)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: book publish test test-unit test-notebooks lab slides test-browser pdf bench clean distclean env

env: $(STAMP)

# the environment; re-installed only when requirements.txt or pyproject.toml change
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .
	@# compile the limit kernel once (numba caches it next to the source); otherwise every process that
	@# first needs it compiles it, two test workers or two notebook executors at the same time
	$(BIN)/python -m mfbook compile
	touch $(STAMP)

$(VENV)/.installed-%: requirements-%.txt $(STAMP)
	$(PIP) install --quiet -r $<
	touch $@

book: $(STAMP)
	./tools/fetch_assets.sh
	MFBOOK_STATIC=1 MFBOOK_COMPILE=foreground $(BIN)/python tools/execute_parallel.py
	MFBOOK_STATIC=1 MFBOOK_COMPILE=foreground $(BIN)/jupyter-book build -W -n --keep-going .
	@echo
	@echo "The book is built. Open file://$(CURDIR)/_build/html/index.html"
	@echo "or serve it: $(BIN)/python -m http.server -d _build/html 8000  ->  http://127.0.0.1:8000"

# the site's install cells and launch buttons must point at a real release: checked before building
publish: $(STAMP)
	$(BIN)/python tools/public_home.py --publish
	$(MAKE) book

# the tests compile in the foreground what is not cached: the answers they check come from the
# compiled solver, never from the reference standing in for it while a background compile runs
test: $(STAMP)
	MFBOOK_COMPILE=foreground $(BIN)/python -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider --nbval-lax tests chapters

test-unit: $(STAMP)
	MFBOOK_COMPILE=foreground $(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider tests

test-notebooks: $(STAMP)
	MFBOOK_COMPILE=foreground $(BIN)/python -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider --nbval-lax chapters

lab: $(STAMP)
	$(PIP) install --quiet jupyterlab
	$(BIN)/jupyter lab chapters/

# decks from the notebooks executed by `make book` (its cache), executing the ones it lacks
slides: $(STAMP) $(VENV)/.installed-slides
	./tools/fetch_assets.sh slides
	MFBOOK_STATIC=1 MFBOOK_COMPILE=foreground $(BIN)/python tools/make_slides.py
	@echo "Open file://$(CURDIR)/_build/slides/index.html (arrow keys; 's' for the speaker view)"

test-browser: $(STAMP) $(VENV)/.installed-browser
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python tests/browser/run_browser_check.py

# one PDF per page of _toc.yml and the whole book, printed by headless Chromium from the built HTML
# (tools/make_pdf.py), then checked: page counts, title, math typeset, no raw TeX, no "nan"
pdf: $(STAMP) $(VENV)/.installed-pdf
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python tools/make_pdf.py
	$(BIN)/python tests/browser/check_pdf.py
	@echo "The PDFs are in $(CURDIR)/_build/pdf (book.pdf: the whole book)"

bench: $(STAMP)
	$(BIN)/python benchmarks/limit.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/widgets.py

clean:
	rm -rf _build .pytest_cache _assets _assets-slides

distclean: clean
	rm -rf $(VENV) vendor-cache .hypothesis
