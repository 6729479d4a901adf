# The two commands of the README: `make run` starts everything, `make test` tests it.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run lint test bench clean

$(BIN)/dealtrail: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/dealtrail

install: $(BIN)/dealtrail

run: install
	$(BIN)/dealtrail up

# Style (ruff) and the import layers (import-linter contracts in pyproject.toml); `make test` runs it first.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	.ci/test-tools
	$(BIN)/python -m pytest -q

# Every SPEC §7 figure in one table (1M events, <= 15 min); options: make bench BENCH="--quick".
bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run $(BENCH)

clean:
	rm -rf $(VENV) .dealtrail .pytest_cache
