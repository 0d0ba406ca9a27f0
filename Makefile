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

.PHONY: help setup machine venv image demo demo-clean test test-unit test-integration test-full build clean \
	demo-installed changelog-preview lint molecule molecule-full

help:
	@echo "make demo        - roll out to 3 local test hosts against a local mTLS stand-in, twice"
	@echo "make demo-clean  - remove the demo hosts, stand-in and files"
	@echo "make test        - lint, unit + integration tests on real test hosts, one molecule scenario (what CI runs)"
	@echo "make test-full   - make test, then the integration suite on Debian trixie and every molecule scenario"
	@echo "make lint        - ansible-lint, production profile, offline"
	@echo "make molecule    - molecule scenario vip_mtls on bookworm (make molecule-full: every scenario, both suites)"
	@echo "make build       - build the collection tarball into .build/"
	@echo "make demo-installed - the demo from the built tarball installed into a new venv (part of make test)"
	@echo "make changelog-preview - lint the changelog fragments and render the next release's notes"

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

test: setup image
	$(MAKE) --no-print-directory lint
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/unit tests/integration
	$(MAKE) --no-print-directory molecule

test-unit: setup
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/unit

test-integration: setup image
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/integration

# Slower matrix, not run by CI: the integration suite again on Debian trixie hosts, every molecule scenario on
# bookworm and trixie.
test-full: test
	$(MAKE) image SUITE=trixie
	VIP_MTLS_TEST_IMAGE=localhost/vip-mtls-host:trixie $(VENV)/bin/python -m pytest -p no:cacheprovider tests/integration
	$(MAKE) --no-print-directory molecule-full

# ansible-lint over the whole collection (roles, playbooks, demo, bench, molecule scenarios); see .ansible-lint.
lint: setup
	$(VENV)/bin/ansible-lint --offline

# Molecule scenarios in extensions/molecule (podman driver, local images, testinfra verifiers); see its run.sh.
molecule: setup image
	bash extensions/molecule/run.sh bookworm vip_mtls

molecule-full: setup
	$(MAKE) image SUITE=bookworm
	$(MAKE) image SUITE=trixie
	bash extensions/molecule/run.sh "bookworm trixie"

build: setup
	mkdir -p $(BUILD)
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD) .

# The demo from the collection as users get it: `ansible-galaxy collection build`, the tarball installed into a
# new venv, this checkout off the collections path (demo/installed.sh). make test runs it through
# tests/integration/test_demo_installed.py.
demo-installed: machine image
	bash demo/installed.sh

# antsibull-changelog lint, then the release notes the next `antsibull-changelog release` would write, rendered
# in a copy of the repository: .build/changelog-preview/CHANGELOG.rst (this checkout is not changed).
changelog-preview: venv
	bash tests/changelog_preview.sh $(BUILD)/changelog-preview

clean: demo-clean
	rm -rf $(BUILD) $(VENV)

# Not part of `make test`: rollout, audit and a hand-written baseline on BENCH_HOSTS (24) SSH hosts; see BENCHMARKS.md.
.PHONY: bench
bench: setup
	bash bench/run.sh
