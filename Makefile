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
.PHONY: test-compat image-oldest
.PHONY: sanity units

help:
	@echo "make demo        - roll out to 3 local test hosts against a local mTLS stand-in, twice"
	@echo "make demo-clean  - remove the demo hosts, stand-in and files"
	@echo "make test        - lint, sanity, unit + integration tests on real test hosts, one molecule scenario, compat (CI)"
	@echo "make test-full   - make test, then units on every Python, the compat suite in full, trixie, every molecule scenario"
	@echo "make lint        - ansible-lint, production profile, offline"
	@echo "make sanity      - ansible-test sanity, every test (compile and import on Python 3.8-3.13 where found)"
	@echo "make units       - the unit tests through ansible-test units (make test-unit: plain pytest)"
	@echo "make molecule    - molecule scenario vip_mtls on bookworm (make molecule-full: every scenario, both suites)"
	@echo "make test-compat - oldest and newest controller stacks, oldest target (Debian 11); part of make test"
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

# The unit tests run once, through ansible-test units (in its own venv with tests/unit/requirements.txt).
test: setup image
	$(MAKE) --no-print-directory lint
	bash tests/sanity/run.sh sanity
	bash tests/sanity/run.sh units
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/integration
	$(MAKE) --no-print-directory molecule
	$(MAKE) test-compat

# ansible-test on a real copy of the collection (.build/ansible-test; see tests/sanity/run.sh). No ignore file.
sanity: setup
	bash tests/sanity/run.sh sanity

units: setup
	bash tests/sanity/run.sh units

test-unit: setup
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/unit

test-integration: setup image
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/integration

# Slower matrix, not run by CI: the unit tests on every controller Python found (3.11-3.13), the compat suite in
# full, the integration suite again on Debian trixie hosts, every molecule scenario on bookworm and trixie.
test-full: test
	bash tests/sanity/run.sh units --all-pythons
	$(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider $(COMPAT_UNIT_SKIP)
	$(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider tests/integration $(COMPAT_FULL_SKIP)
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

# Compatibility (README, Compatibility), part of `make test`; three corners the main suite (this venv's ansible-core,
# Debian bookworm hosts) does not reach:
# 1. the oldest controller stack declared (tests/compat/requirements-min.txt: ansible-core = requires_ansible's
#    floor, cryptography = requirements.txt's floor) on the oldest target (Debian bullseye, Python 3.9): the unit
#    tests, tests/integration/test_rollout.py, the audit, every target file compiled by 3.9, the message for an older
#    cryptography ($(OLD_CRYPTOGRAPHY)), client_pkcs12 with the oldest target cryptography ($(TARGET_CRYPTOGRAPHY));
# 2. the newest ansible-core on PyPI (it needs Python 3.12+, so a Debian trixie host is its controller): a rollout.
# The venv and downloads are cached in .build/compat. In `make test` the minimum venv skips the unit tests that
# drive only keytool or SIGKILL standard-library target code (COMPAT_UNIT_SKIP: nothing there depends on
# ansible-core or cryptography); `make test-full` runs them too, and the whole integration suite with that venv.
COMPAT := $(BUILD)/compat
COMPAT_VENV := $(COMPAT)/venv-min
OLD_CRYPTOGRAPHY := 40.0.2
OLD_CRYPTO_DIR := $(COMPAT)/cryptography-$(OLD_CRYPTOGRAPHY)
# The oldest python3-cryptography on a target claimed (Ubuntu 20.04), for mtls_check's optional client_pkcs12.
TARGET_CRYPTOGRAPHY := 2.8
TARGET_CRYPTO_DIR := $(COMPAT)/target-cryptography-$(TARGET_CRYPTOGRAPHY)
NEWEST_WHEELS := $(COMPAT)/wheels-newest
COMPAT_UNIT_SKIP ?= tests/unit/test_javastore.py tests/unit/test_interrupted.py
# make test-full also runs the whole integration suite (bookworm hosts) with the minimum stack, less the tooling
# tests that need the project venv's antsibull-changelog and ansible-builder.
COMPAT_FULL_SKIP := --deselect tests/integration/test_build.py::test_changelog_fragments_are_valid \
	--deselect tests/integration/test_execution_environment.py

$(COMPAT_VENV)/.installed: tests/compat/requirements-min.txt tests/compat/setup-venv.sh
	bash tests/compat/setup-venv.sh $(COMPAT_VENV) $(PYTHON)
	touch $@

# Only the cryptography package, put in front of the minimum venv's for one playbook run.
$(OLD_CRYPTO_DIR)/.installed: $(COMPAT_VENV)/.installed
	rm -rf $(OLD_CRYPTO_DIR)
	$(COMPAT_VENV)/bin/pip install -q --disable-pip-version-check --no-deps --target $(OLD_CRYPTO_DIR) \
		cryptography==$(OLD_CRYPTOGRAPHY)
	touch $@

$(TARGET_CRYPTO_DIR)/.installed: $(COMPAT_VENV)/.installed
	rm -rf $(TARGET_CRYPTO_DIR)
	$(COMPAT_VENV)/bin/pip install -q --disable-pip-version-check --no-deps --only-binary=:all: \
		--target $(TARGET_CRYPTO_DIR) cryptography==$(TARGET_CRYPTOGRAPHY) six
	touch $@

image-oldest: machine
	bash tests/hosts/build-image.sh bullseye
	bash tests/hosts/build-image.sh trixie

test-compat: setup image-oldest $(COMPAT_VENV)/.installed $(OLD_CRYPTO_DIR)/.installed $(TARGET_CRYPTO_DIR)/.installed
	VIP_MTLS_TEST_IMAGE=localhost/vip-mtls-host:bullseye VIP_MTLS_OLD_CRYPTOGRAPHY=$(OLD_CRYPTO_DIR) \
	VIP_MTLS_TARGET_CRYPTOGRAPHY=$(TARGET_CRYPTO_DIR) $(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider \
		tests/unit $(addprefix --ignore=,$(COMPAT_UNIT_SKIP)) tests/compat/test_min_controller.py \
		tests/compat/test_target_cryptography.py tests/compat/test_oldest_target.py tests/integration/test_rollout.py
	# The newest ansible-core and cryptography for CPython 3.13 on x86_64 (the trixie host), fetched anew each run.
	rm -rf $(NEWEST_WHEELS)
	$(VENV)/bin/pip download -q --disable-pip-version-check --only-binary=:all: --python-version 3.13 \
		--implementation cp --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64 \
		--platform manylinux2014_x86_64 -d $(NEWEST_WHEELS) ansible-core cryptography pip
	VIP_MTLS_NEWEST_WHEELS=$(NEWEST_WHEELS) $(VENV)/bin/python -m pytest -p no:cacheprovider \
		tests/compat/test_newest_controller.py
