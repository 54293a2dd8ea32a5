# Jemput: every target creates and uses the project's own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= var/kit
N ?= 200
UI ?= web
PORT ?= 8321
SCENARIO ?= hari-pertama

.PHONY: run training demo demo-timed test lint lint-pico format bench torture selftest clean district district-stop

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

# a training day on the browser kit, on its own training kit (what it seals never counts)
training: $(STAMP)
	$(BIN)/jemput-kit run --sim --web --port $(PORT) --data-dir var/training --scenario $(SCENARIO)

# the scripted day on the wire emulators without their waits (a minute); demo-timed keeps
# the wires' and the parts' time, as a real kit's day (about four minutes a person)
demo: $(STAMP)
	JEMPUT_TIMING=fast $(BIN)/jemput-kit demo --people 20 --data-dir var/demo --seed 1

demo-timed: $(STAMP)
	$(BIN)/jemput-kit demo --people 3 --data-dir var/demo-timed --seed 1

# the tests use swtpm, Chromium and PostgreSQL from Debian's packages (scripts/system-packages.sh)
test: $(STAMP)
	scripts/system-packages.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
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

# a local PostgreSQL for the district store in var/pg; prints its postgresql:// URL
district: $(STAMP)
	$(BIN)/python -m provisioning.district.server start var/pg

district-stop: $(STAMP)
	$(BIN)/python -m provisioning.district.server stop var/pg

clean:
	rm -rf $(VENV) var build *.egg-info
