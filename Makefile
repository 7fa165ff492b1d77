# The two commands a newcomer needs:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
GRADER := $(BIN)/grader
TOY := tests/fixtures/project
# Test files run in this many processes (pytest-xdist, a file per process at a time): alone, the
# suite leaves a third of two cores idle while gradings wait on their children and time limits.
TEST_JOBS ?= 2

.PHONY: setup demo test lint verify clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	@# The HTML report's browser test needs Chromium: installed where apt can (as root), else that test is skipped.
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } \
	  || echo "setup: chromium not installed (needs root and apt); the HTML browser test will be skipped"
	touch $@

## demo: set up, build the student templates, grade reference and template of every assignment
demo: setup
	$(GRADER) build --all
	$(GRADER) --root $(TOY) build --all
	@for a in $$($(GRADER) list --names); do \
	  echo; echo "=== $$a: reference solution"; $(GRADER) grade $$a --submission reference/$$a || exit $$?; \
	  echo; echo "=== $$a: student template"; $(GRADER) grade $$a --submission student_template/$$a || exit $$?; \
	done
	@echo; echo "=== toy (the harness's own test assignment): reference solution"
	$(GRADER) --root $(TOY) grade toy --submission $(TOY)/reference/toy
	@echo; echo "=== toy: student template"
	$(GRADER) --root $(TOY) grade toy --submission $(TOY)/student_template/toy

## test: lint, check that the templates are in sync, run the test suite
test: setup
	$(BIN)/ruff check grader tests benchmarks
	$(GRADER) build --all --check
	$(GRADER) --root $(TOY) build --all --check
	$(BIN)/pytest -n $(TEST_JOBS) --dist loadfile
	$(GRADER) --root $(TOY) verify toy
	$(GRADER) verify --all

verify: setup
	$(GRADER) verify --all

clean:
	rm -rf $(VENV) build *.egg-info
