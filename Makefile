# Entry point for people and CI. Every target installs what it needs.
SHELL := /bin/bash
PY_SYS := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := python3-venv python3-pyudev python3-netifaces python3-jinja2 libxml2-utils \
                tzdata fdisk gdisk e2fsprogs util-linux openssl
DEMO_ANSWERFILE ?= answerfiles/examples/static-vlan-ntp.xml
DEMO_MACHINE ?= tests/machines/uefi-3disks.json

.PHONY: all demo test test-unit test-integration deps apt-deps clean

all: test

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(VENV)/.stamp: requirements-test.txt | apt-deps
	$(PY_SYS) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

deps: apt-deps $(VENV)/.stamp

demo: deps
	@echo "== validate $(DEMO_ANSWERFILE)"
	$(PY) -m installer validate $(DEMO_ANSWERFILE)
	@echo; echo "== plan against the recorded machine $(DEMO_MACHINE)"
	$(PY) -m installer plan $(DEMO_ANSWERFILE) --machine $(DEMO_MACHINE)
	@echo; echo "== engine dry run (events in build/demo-events.jsonl)"
	mkdir -p build
	$(PY) -m installer install $(DEMO_ANSWERFILE) --machine $(DEMO_MACHINE) --dry-run --events build/demo-events.jsonl

test: deps
	$(PY) -m pytest -q -ra

test-unit: deps
	$(PY) -m pytest -q -ra -m "not root"

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
