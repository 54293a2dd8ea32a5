# Jemput: every target creates and uses the project's own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= var/kit
N ?= 200
UI ?= web
PORT ?= 8321

.PHONY: run demo test lint lint-pico format bench torture selftest clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
ifeq ($(UI),terminal)
	$(BIN)/jemput-kit run --sim --data-dir $(DATA)
else
	$(BIN)/jemput-kit run --sim --web --port $(PORT) --data-dir $(DATA)
endif

demo: $(STAMP)
	$(BIN)/jemput-kit demo --people 20 --data-dir var/demo --seed 1

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) lint-pico

# the Pico's MicroPython firmware, type-checked against the RP2040 port's stubs
lint-pico: $(STAMP)
	$(BIN)/python -m tests.pico.typecheck

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m tests.bench

torture: $(STAMP)
	$(BIN)/python -m tests.torture --iterations $(N)

selftest: $(STAMP)
	$(BIN)/jemput-kit selftest --sim

clean:
	rm -rf $(VENV) var build *.egg-info
