# Jemput: every target creates and uses the project's own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= var/kit
N ?= 200
UI ?= web
PORT ?= 8321
SCENARIO ?= hari-pertama
SENSOR ?= r307

.PHONY: run training demo demo-timed test lint lint-pico format bench torture selftest clean district district-stop

# Each target installs the extra of the program it runs (pyproject.toml): `make run` only the
# simulator's wheels (nothing to compile), `make district` the district store's, and the tests
# everything (the TPM backend builds against libtss2-dev: scripts/system-packages.sh).
$(VENV)/.made:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

# wheels only for the simulator and the district: a fresh machine with Python alone runs them
$(VENV)/.installed-sim $(VENV)/.installed-district: $(VENV)/.installed-%: pyproject.toml $(VENV)/.made
	$(BIN)/python -m pip install --quiet --only-binary=:all: -e '.[$*]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.made
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

SIM := $(VENV)/.installed-sim
DISTRICT := $(VENV)/.installed-district
DEV := $(VENV)/.installed-dev

run: $(SIM)
ifeq ($(UI),terminal)
	$(BIN)/jemput-kit sim terminal --data-dir $(DATA) --sensor $(SENSOR)
else
	$(BIN)/jemput-kit sim web --port $(PORT) --data-dir $(DATA) --sensor $(SENSOR)
endif

# a training day on the browser kit, on its own training kit (what it seals never counts)
training: $(SIM)
	$(BIN)/jemput-kit sim web --port $(PORT) --data-dir var/training --scenario $(SCENARIO)

# the scripted day on the wire emulators without their waits (a minute); demo-timed keeps
# the wires' and the parts' time, as a real kit's day (about four minutes a person)
demo: $(SIM)
	$(BIN)/jemput-kit sim demo --fast --people 20 --data-dir var/demo --seed 1

demo-timed: $(SIM)
	$(BIN)/jemput-kit sim demo --people 3 --data-dir var/demo-timed --seed 1

# the tests use swtpm, Chromium and PostgreSQL from Debian's packages (scripts/system-packages.sh)
test: $(DEV)
	scripts/system-packages.sh
	$(BIN)/python -m pytest

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(MAKE) lint-pico

# the Pico's MicroPython firmware, type-checked against the RP2040 port's stubs
lint-pico: $(DEV)
	$(BIN)/python -m tests.pico.typecheck

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV)
	$(BIN)/python -m tests.bench

torture: $(DEV)
	$(BIN)/python -m tests.torture --iterations $(N)

selftest: $(SIM)
	$(BIN)/jemput-kit sim selftest

# a local PostgreSQL for the district store in var/pg; prints its postgresql:// URL
district: $(DISTRICT)
	$(BIN)/python -m provisioning.district.server start var/pg

district-stop: $(DISTRICT)
	$(BIN)/python -m provisioning.district.server stop var/pg

clean:
	rm -rf $(VENV) var build *.egg-info
