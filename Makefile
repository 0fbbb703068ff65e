# SPDX-License-Identifier: MIT
# The two commands of the README, as a thin layer over CMake (as Neovim does):
#   make run    install what is missing, build, index corpus/, serve http://127.0.0.1:8080
#   make test   install what is missing, build, run the whole suite, then again under ASan+UBSan
# Other targets: build, index, test-fast (one pass, no sanitizers), test-valgrind, soak, lint,
# clean, and:
#   deb          build/powertrain-kb_<version>_amd64.deb (CPack; see README "Install from the package")
#   docs         rewrite README.md's tables generated from docs/man/*.toml
#   screenshots  run the browser test and copy its desktop and phone pictures to docs/

BUILD      ?= build
ASAN_BUILD ?= build-asan
VG_BUILD   ?= build-valgrind
JOBS       ?= 2
PORT       ?= 8080
INDEX      ?= var/index
# CI builds with -Werror
WERROR     ?= $(if $(CI),ON,OFF)

.PHONY: all deps deps-run deps-bench deps-deb build index run test test-fast test-asan test-valgrind \
	soak lint clean deb docs screenshots

all: build

deps:
	sh scripts/deps.sh test

deps-run:
	sh scripts/deps.sh run

# The anchors the benchmarks compare against (omindex, wrk, perf...): see bench/README.md.
deps-bench:
	sh scripts/deps.sh bench

deps-deb:
	sh scripts/deps.sh deb

build: deps-run
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKB_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

index: build
	$(BUILD)/bin/kb-indexer --index=$(INDEX) corpus || test $$? -eq 1

run: index
	$(BUILD)/bin/kb-server --index=$(INDEX) --port=$(PORT)

test: deps
	$(MAKE) --no-print-directory test-fast
	$(MAKE) --no-print-directory test-asan

test-fast: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKB_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The suite again under AddressSanitizer + UndefinedBehaviorSanitizer (the browser test is
# left out: it exercises the page, not our C code, and already ran above; so are the
# package tests: the .deb is built once, from the normal build, and the sanitizers'
# runtimes make system calls that the units' filter rightly refuses).
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKB_SANITIZE=ON -DKB_WERROR=$(WERROR) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j$(JOBS) -LE 'browser|package'

# Unit tests under valgrind memcheck (slow; not part of `make test`).
test-valgrind: deps
	cmake -S . -B $(VG_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKB_VALGRIND=ON >/dev/null
	cmake --build $(VG_BUILD) -j$(JOBS)
	cd $(VG_BUILD) && ctest --output-on-failure -j$(JOBS) -L unit

# The server's 10-minute soak at 1,000 connections (not part of `make test`): see
# tests/integration/test_load.py and docs/reliability.md.
soak: build
	KB_SOAK=1 KB_BIN_DIR=$(CURDIR)/$(BUILD)/bin KB_SOURCE_DIR=$(CURDIR) \
	    KB_DATA_DIR=$(CURDIR)/schemas python3 tests/integration/test_load.py

lint: deps
	cmake -S . -B $(BUILD) >/dev/null && cd $(BUILD) && ctest --output-on-failure -L lint

deb: deps-deb build
	cd $(BUILD) && cpack -G DEB
	@ls $(BUILD)/powertrain-kb_*_amd64.deb

docs: build
	python3 docs/man/mkdocs.py --readme README.md

screenshots: build
	cd $(BUILD) && ctest --output-on-failure -R '^browser$$'
	cp tests/browser/artifacts/readme-desktop.png docs/screenshot-desktop.png
	cp tests/browser/artifacts/readme-phone.png docs/screenshot-phone.png

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(VG_BUILD) var
