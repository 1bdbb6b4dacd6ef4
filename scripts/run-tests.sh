#!/usr/bin/env bash
# Runs every test (ctest: unit, integration and conformance) and ends with one summary line.
set -uo pipefail
BUILD_DIR="${1:-build}"
cd "$(dirname "$0")/.."
export VESTA_SHARED_DATA="${VESTA_SHARED_DATA:-$(pwd)/../shared/data}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 300 \
  --output-junit ctest-results.xml 2>&1 | tee "$BUILD_DIR/ctest.log"
status=${PIPESTATUS[0]}
# Readable closing lines, counted from ctest's JUnit report: the entries of each store (those run
# once per store end in .sqlite or .postgres: tests/CMakeLists.txt, vesta_store_test, and the
# store contract test), then every entry. An entry whose tests all skipped is a skip (ctest's
# SKIP_REGULAR_EXPRESSION).
python3 - "$BUILD_DIR/ctest-results.xml" <<'PY' || true
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    sys.exit(0)
counts = {"all": [0, 0, 0]}  # passed, failed, skipped
stores = {".sqlite": "sqlite store", ".postgres": "postgresql store"}
for c in root.iter("testcase"):
    st = c.get("status", "")
    if c.find("failure") is not None or st == "fail":
        outcome = 1
    elif c.find("skipped") is not None or st in ("notrun", "disabled"):
        outcome = 2
    else:
        outcome = 0
    counts["all"][outcome] += 1
    for suffix, label in stores.items():
        if c.get("name", "").endswith(suffix):
            counts.setdefault(label, [0, 0, 0])[outcome] += 1
for label in stores.values():
    if label in counts:
        p, f, s = counts[label]
        print(f"  {label}: {p} passed, {f} failed, {s} skipped")
p, f, s = counts["all"]
print(f"tests: {p} passed, {f} failed, {s} skipped")
PY
exit $status
