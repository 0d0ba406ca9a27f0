# vip.mtls: `make demo` runs the rollout on local test hosts; `make test` runs the whole suite.
# Both set up everything they need (Debian packages, venv, test image) on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BUILD := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
LINK := $(COLLECTIONS)/ansible_collections/vip/mtls
SUITE ?= bookworm

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(VENV)/bin:$(PATH)
export PYTHON := $(VENV)/bin/python

.PHONY: help setup machine venv image demo demo-clean test test-unit test-integration test-full build clean sanity units

help:
	@echo "make demo        - roll out to 3 local test hosts against a local mTLS stand-in, twice"
	@echo "make demo-clean  - remove the demo hosts, stand-in and files"
	@echo "make test        - sanity + unit + integration tests on real test hosts (what CI runs)"
	@echo "make sanity      - ansible-test sanity, every test (compile and import on Python 3.8-3.13 where found)"
	@echo "make units       - the unit tests through ansible-test units (make test-unit: plain pytest)"
	@echo "make test-full   - make test, then units on Python 3.11-3.13 and the integration suite on Debian trixie"
	@echo "make build       - build the collection tarball into .build/"

setup: machine venv $(LINK)

machine:
	bash tests/hosts/setup-machine.sh

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

# The tests and the demo use the working tree as the installed collection.
$(LINK):
	mkdir -p $(dir $(LINK))
	ln -sfn ../../../.. $(LINK)

image: machine
	bash tests/hosts/build-image.sh $(SUITE)
	bash tests/hosts/build-image.sh $(SUITE) java

demo: setup image
	bash demo/run.sh

demo-clean:
	bash demo/clean.sh

# The unit tests run once, through ansible-test units (in its own venv with tests/unit/requirements.txt).
test: setup image
	bash tests/sanity/run.sh sanity
	bash tests/sanity/run.sh units
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/integration

# ansible-test on a real copy of the collection (.build/ansible-test; see tests/sanity/run.sh). No ignore file.
sanity: setup
	bash tests/sanity/run.sh sanity

units: setup
	bash tests/sanity/run.sh units

test-unit: setup
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/unit

test-integration: setup image
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/integration

# Slower matrix, not run by CI: the unit tests on every controller Python found (3.11-3.13), and the
# integration suite again on Debian trixie hosts.
test-full: test
	bash tests/sanity/run.sh units --all-pythons
	$(MAKE) image SUITE=trixie
	VIP_MTLS_TEST_IMAGE=localhost/vip-mtls-host:trixie $(VENV)/bin/python -m pytest -p no:cacheprovider tests/integration

build: setup
	mkdir -p $(BUILD)
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD) .

clean: demo-clean
	rm -rf $(BUILD) $(VENV)

# Not part of `make test`: rollout, audit and a hand-written baseline on BENCH_HOSTS (24) SSH hosts; see BENCHMARKS.md.
.PHONY: bench
bench: setup
	bash bench/run.sh
