# Vesta: `make run` builds and starts the server; `make test` builds and runs every test.
# Both install what is missing first (scripts/install-deps.sh).

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
PORT ?= 8080
BENCH_FLAGS ?=
DATA_DIR ?= ./vesta-data
CMAKE_FLAGS ?=
SHARED_DATA ?= ../shared/data
ICD10CM_TABULAR ?= $(SHARED_DATA)/icd10cm/cdc-tabular-2023/icd10cm_tabular_2023.xml.gz
GEMS_DIR ?= $(SHARED_DATA)/icd10cm/gems-2018
ECQM_DIR ?= $(SHARED_DATA)/ecqm

.PHONY: all deps configure build run test test-sanitize bench clean format

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The R4 CodeSystems and ValueSets go into the data dir's terminology once (docs/terminology.md),
# and ICD-10-CM with the CMS GEMs when the reference data is beside the checkout (the chart's
# problem displays and the ICD-10 worklist). --demo loads 100 generated patients into an empty
# store and the web app is at http://127.0.0.1:$(PORT)/app/ (docs/web-app.md); with it the quality
# measures of the eCQM test data when they are beside the checkout (--demo-measures: their
# Libraries, Measures and value sets, for the measures page). Authorization is off for this local
# first run (loopback only; docs/security.md says how to serve with it).
run: build
	@$(BUILD_DIR)/vesta terminology load r4 --skip-if-loaded --data-dir $(DATA_DIR)
	@if [ -f $(ICD10CM_TABULAR) ] && [ -f $(GEMS_DIR)/2018_I9gem.txt ]; then \
	  $(BUILD_DIR)/vesta terminology load icd10cm-tabular $(ICD10CM_TABULAR) --data-dir $(DATA_DIR) >/dev/null && \
	  $(BUILD_DIR)/vesta terminology load gems $(GEMS_DIR)/2018_I9gem.txt $(GEMS_DIR)/2018_I10gem.txt \
	    --data-dir $(DATA_DIR) >/dev/null; \
	else echo "ICD-10-CM and the GEMs not found in $(SHARED_DATA): the chart shows the codings' own displays"; fi
	@[ -d $(ECQM_DIR)/measures ] || echo "eCQM measures not found in $(SHARED_DATA): the measures page says how to load one"
	$(BUILD_DIR)/vesta serve --port $(PORT) --data-dir $(DATA_DIR) --auth off --demo \
	  $$([ -d $(ECQM_DIR)/measures ] && echo --demo-measures $(ECQM_DIR))

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
