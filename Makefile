# Vesta: `make run` builds and starts the server; `make test` builds and runs every test.
# Both install what is missing first (scripts/install-deps.sh).

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
PORT ?= 8080
BENCH_FLAGS ?=
DATA_DIR ?= ./vesta-data
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test test-sanitize bench clean format

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The R4 CodeSystems and ValueSets go into the data dir's terminology once (docs/terminology.md).
# Authorization is off for this local first run (loopback only; docs/security.md says how to
# serve with it).
run: build
	@$(BUILD_DIR)/vesta terminology load r4 --skip-if-loaded --data-dir $(DATA_DIR)
	$(BUILD_DIR)/vesta serve --port $(PORT) --data-dir $(DATA_DIR) --auth off

test: build
	@scripts/run-tests.sh $(BUILD_DIR)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer, in its own build dir
# (the integration tests then run the sanitized server binary too).
test-sanitize:
	@$(MAKE) --no-print-directory test BUILD_DIR=build-asan CMAKE_FLAGS="-DVESTA_SANITIZE=ON $(CMAKE_FLAGS)"

bench: build
	@bench/run $(BENCH_FLAGS)

format:
	@find src tests bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
