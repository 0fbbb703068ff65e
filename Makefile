# SPDX-License-Identifier: MIT
# The two commands of the README, as a thin layer over CMake (as Neovim does):
#   make run    install what is missing, build, index corpus/, serve http://127.0.0.1:8080
#   make test   install what is missing, build, run the whole suite, then again under ASan+UBSan
# Other targets: build, index, test-fast (one pass, no sanitizers), test-asan, test-fuzz
# (bounded libFuzzer runs), fuzz-long, test-valgrind, soak, lint, reliability, clean, and:
#   deb          build/powertrain-kb_<version>_amd64.deb (CPack; see README "Install from the package")
#   docs         rewrite README.md's tables generated from docs/man/*.toml
#   screenshots  run the browser test and copy its desktop and phone pictures to docs/

BUILD      ?= build
ASAN_BUILD ?= build-asan
VG_BUILD   ?= build-valgrind
FUZZ_BUILD ?= build-fuzz
# seconds of libFuzzer per target in `make test` (fuzz-long: FUZZ_LONG_SECONDS)
FUZZ_SECONDS ?= 3
FUZZ_LONG_SECONDS ?= 600
JOBS       ?= 2
PORT       ?= 8080
INDEX      ?= var/index
# CI builds with -Werror
WERROR     ?= $(if $(CI),ON,OFF)

.PHONY: all deps deps-run deps-bench deps-deb build index run test test-fast test-asan test-fuzz \
	fuzz-long test-valgrind soak lint reliability clean deb docs screenshots

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
	$(MAKE) --no-print-directory test-fuzz

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

# Every fuzz target under libFuzzer (clang, with ASan+UBSan and coverage of the libraries
# too) for FUZZ_SECONDS each, in its own build directory: ctest -L fuzzrun. -O1 with line
# tables only: the build is most of the time this adds to `make test`. Without clang the
# targets still replay their corpus in the two passes above (label fuzz).
test-fuzz: deps
	@if command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1; then \
	    CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=None \
	        -DKB_WERROR=OFF -DCMAKE_C_FLAGS="-O1 -gline-tables-only \
	        -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	        -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only -fsanitize=address,undefined \
	        -fno-sanitize-recover=all" >/dev/null && \
	    cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all && \
	    cd $(FUZZ_BUILD) && FUZZ_SECONDS=$(FUZZ_SECONDS) \
	        LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	        ctest --output-on-failure -j$(JOBS) -L fuzzrun; \
	else echo "test-fuzz: no clang; the fuzz targets only replay their corpus"; fi

# The same, for FUZZ_LONG_SECONDS per target (10 minutes by default).
fuzz-long:
	$(MAKE) --no-print-directory test-fuzz FUZZ_SECONDS=$(FUZZ_LONG_SECONDS)

# Runs the reliability tests and rewrites the table of docs/reliability.md from the
# figures they print (build first: make test-fast, and make test-fuzz for the fuzz rows).
reliability:
	python3 scripts/reliability.py --build $(BUILD) --fuzz-build $(FUZZ_BUILD) \
	    --fuzz-seconds $(FUZZ_SECONDS)

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
	rm -rf $(BUILD) $(ASAN_BUILD) $(VG_BUILD) $(FUZZ_BUILD) var
