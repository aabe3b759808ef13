# The two commands of the quick start: `make demo` and `make test`. Each makes .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint bench clean mutation fuzz

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(VENV)/bin/vret demo $(DEMO_ARGS)

test: $(STAMP_TEST)
	./tools/ensure-browser.sh
	./tools/ensure-ffmpeg.sh
	./tools/ensure-speech.sh
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The property and fuzz tests at depth: 1,000 examples each, 5,000 per decoder fuzz test, 500 per
# console operation (about a quarter of an hour on 2 cores). `make test` runs them with 300 (25 per
# console operation); CI with the same, derandomized, and 100 per console operation.
FUZZ_TESTS := tests/sensors/test_fuzz.py tests/exposure tests/clinician_console/test_schema.py \
	tests/clinician_console/test_clinic_schema.py
fuzz: $(STAMP_TEST)
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest -q $(FUZZ_TESTS) $(PYTEST_ARGS)

bench: $(STAMP_TEST)
	$(PY) -m benchmarks $(BENCH_ARGS)

# Mutation score of the core, the live session, the records' write path, signal quality and the
# decoders (tools/mutation/run.py; about an hour on 2 cores). Not part of `make test`.
STAMP_MUTATION := $(VENV)/.installed-mutation
$(STAMP_MUTATION): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev,mutation]'
	touch $@ $(STAMP_TEST) $(STAMP_RUN)

mutation: $(STAMP_MUTATION)
	$(PY) tools/mutation/run.py $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis bench-results.json
