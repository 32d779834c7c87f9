# Entry point for people and CI. Every target installs what it needs.
SHELL := /bin/bash
PY_SYS := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := python3-venv python3-pip python3-pyudev python3-netifaces python3-jinja2 libxml2-utils \
                tzdata fdisk gdisk e2fsprogs util-linux lvm2 openssl \
                mmdebstrap squashfs-tools dpkg-dev gpg gpgv qemu-system-x86 ovmf openssh-client \
                xorriso grub-pc-bin grub-efi-amd64-bin mtools pxelinux syslinux-common ipxe-qemu console-setup-linux xkb-data zstd \
                nfs-ganesha nfs-ganesha-vfs busybox-static
WHEEL_CACHE ?= $(or $(XENHOST_CACHE),/var/cache/xenhost-build)/wheels
DEMO_ANSWERFILE ?= answerfiles/examples/fresh-dhcp.xml
DEMO_MACHINE ?= tests/machines/uefi-3disks.json
# make host-image ANSWERFILE=f.xml IMAGE=host.img [SIZE=64G] [BOOT_MODE=uefi|bios] [CMDLINE='console=ttyS0']
ANSWERFILE ?= $(DEMO_ANSWERFILE)
IMAGE ?= build/host.img
BOOT_MODE ?= uefi
CMDLINE ?= console=ttyS0,115200

.PHONY: all demo test test-unit vm-test deps apt-deps env product images iso pxe build-report host-image bench clean

all: test

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  systemctl disable --now nfs-ganesha.service >/dev/null 2>&1 || true; \
	fi

# Test wheels are kept outside the checkout so a run with the registry unreachable still installs
# them: offline from the kept wheels first, else download them (registry + the machine's wheel stores).
$(VENV)/.stamp: requirements-test.txt | apt-deps
	$(PY_SYS) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --no-index --find-links $(WHEEL_CACHE) -r requirements-test.txt 2>/dev/null || \
	{ $(PY) -m pip download -q -d $(WHEEL_CACHE) -r requirements-test.txt && \
	  $(PY) -m pip install -q --no-index --find-links $(WHEEL_CACHE) -r requirements-test.txt; }
	touch $@

deps: apt-deps $(VENV)/.stamp

env: apt-deps
	$(PY_SYS) image/build.py env

product: apt-deps
	$(PY_SYS) image/build.py product

images: apt-deps
	$(PY_SYS) image/build.py all

# the hybrid ISO (build/installer.iso) and the network-boot directory (build/pxe/), with a build report
iso: apt-deps
	$(PY_SYS) image/build.py iso --output build/installer.iso

pxe: apt-deps
	$(PY_SYS) image/build.py pxe --output build/pxe

build-report:
	$(PY_SYS) image/build.py report

host-image: deps images
	$(PY) -m installer install --answerfile $(ANSWERFILE) --target-image $(IMAGE) \
	  $(if $(SIZE),--size $(SIZE)) --boot-mode $(BOOT_MODE) --cmdline '$(CMDLINE)' --out $(dir $(IMAGE))install-log

vm-test: deps images
	rm -f build/vm-tests/timings.json
	$(PY) -m pytest -q -ra -s vm-tests; rc=$$?; $(PY) vm-tests/timings.py; exit $$rc

bench: deps images
	$(PY_SYS) bench/install_bench.py

demo: deps
	@echo "== validate $(DEMO_ANSWERFILE)"
	$(PY) -m installer validate $(DEMO_ANSWERFILE)
	@echo; echo "== plan against the recorded machine $(DEMO_MACHINE)"
	$(PY) -m installer plan $(DEMO_ANSWERFILE) --machine $(DEMO_MACHINE)
	@echo; echo "== engine dry run (events in build/demo-events.jsonl)"
	mkdir -p build
	$(PY) -m installer install $(DEMO_ANSWERFILE) --machine $(DEMO_MACHINE) --dry-run --events build/demo-events.jsonl
	@echo; echo "== install it into a disk image (builds the installer environment and product tree when missing)"
	$(MAKE) --no-print-directory host-image ANSWERFILE=$(DEMO_ANSWERFILE) IMAGE=build/demo/host.img BOOT_MODE=$(BOOT_MODE)
	@echo; echo "== boot the image in QEMU until the host is ready"
	$(PY) vm-tests/boot.py build/demo/host.img --firmware $(BOOT_MODE)

test: deps
	rm -f build/vm-tests/timings.json
	$(PY) -m pytest -q -ra; rc=$$?; $(PY) vm-tests/timings.py; exit $$rc

test-unit: deps
	$(PY) -m pytest -q -ra -m "not root and not env" tests

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
