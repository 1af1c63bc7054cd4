# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What the install builds against (python-sane: gcc, SANE's headers) and what Qt loads.
SYSTEM_PACKAGES := gcc libsane1 libsane-dev libegl1 libgl1 libxkbcommon0 \
	libxkbcommon-x11-0 libfontconfig1 libdbus-1-3

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	sh scripts/system-packages $(SYSTEM_PACKAGES)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# These exact builds lie on the build machine's disk; any other torch downloads gigabytes.
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[train,test,scan]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sigverify-gui

# The UI tests run in an interpreter of their own, which creates its QApplication
# first thing. Once, after the other tests had run in the same process, creating it
# hung for good in glibc's setlocale(): a lock left held by a native thread of an
# earlier test (scanner driver, OpenCV or torch, not pinned down).
# SANE's `test` backend deadlocks now and then (tests/test_capture_sane.py says how);
# scans run in child processes that the app kills when they fall silent, so that can
# no longer hang a test run.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q --ignore=tests/ui
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q tests/ui

lint: $(STAMP)
	$(BIN)/ruff check model sigverify_gui tests

bench: $(STAMP)
	$(BIN)/sigverify bench

clean:
	rm -rf $(VENV) build dist .pytest_cache

# --- The teller executable (PyInstaller): README.md, "Building the teller executable" ---
# Each flavour builds in a virtual environment of its own, never .venv: the executable
# must hold exactly the run-time dependencies (no torchvision, matplotlib, pytest, ...).
PYINSTALLER := pyinstaller==6.22.3
# The executable bundles Qt's X11 (xcb) libraries, so they must be on the building
# machine; strip (binutils) shrinks torch's libraries.
DIST_PACKAGES := binutils libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
	libxcb-render-util0 libxcb-shape0 libxcb-xkb1
CPU_VENV := build/venv-cpu
CUDA_VENV := build/venv-cuda

.PHONY: dist dist-cuda dist-test

# torch first, pinned, so that installing the app (torch>=2.13,<2.15) keeps it:
# 2.13.0 is the CPU-only build (the small executable), 2.14.1 the CUDA one.
# $(call build_venv,FOLDER,TORCH_VERSION)
define build_venv
	sh scripts/system-packages $(SYSTEM_PACKAGES) $(DIST_PACKAGES)
	rm -rf $(1)
	$(PY) -m venv $(1)
	$(1)/bin/pip install -q --upgrade pip
	$(1)/bin/pip install -q torch==$(2)
	$(1)/bin/pip install -q -e '.[scan]' $(PYINSTALLER)
	touch $(1)/.installed
endef

$(CPU_VENV)/.installed: pyproject.toml
	$(call build_venv,$(CPU_VENV),2.13.0)

$(CUDA_VENV)/.installed: pyproject.toml
	$(call build_venv,$(CUDA_VENV),2.14.1)

dist: $(CPU_VENV)/.installed
	$(CPU_VENV)/bin/pyinstaller build.spec --noconfirm --clean \
		--distpath dist --workpath build/pyinstaller-cpu
	du -sh dist/sigverify

dist-cuda: $(CUDA_VENV)/.installed
	$(CUDA_VENV)/bin/pyinstaller build.spec --noconfirm --clean \
		--distpath dist/cuda --workpath build/pyinstaller-cuda
	du -sh dist/cuda/sigverify

# Builds the CPU flavour, then runs it as a user would (scripts/dist_check.py): the
# self-test with the shipped model, the command line, the window, and no file written
# outside the user's folders. Headless (Qt's offscreen platform).
dist-test: dist
	QT_QPA_PLATFORM=offscreen $(PY) scripts/dist_check.py dist/sigverify
