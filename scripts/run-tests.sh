#!/usr/bin/env bash
# Runs every test (ctest: unit, integration and conformance) and ends with one summary line.
set -uo pipefail
BUILD_DIR="${1:-build}"
cd "$(dirname "$0")/.."
export VESTA_SHARED_DATA="${VESTA_SHARED_DATA:-$(pwd)/../shared/data}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 300 \
  --output-junit ctest-results.xml 2>&1 | tee "$BUILD_DIR/ctest.log"
status=${PIPESTATUS[0]}
# A readable closing line: counts from ctest's JUnit report.
python3 - "$BUILD_DIR/ctest-results.xml" <<'PY' || true
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    sys.exit(0)
cases = root.iter("testcase")
passed = failed = skipped = 0
for c in cases:
    st = c.get("status", "")
    if c.find("failure") is not None or st == "fail":
        failed += 1
    elif c.find("skipped") is not None or st in ("notrun", "disabled"):
        skipped += 1
    else:
        passed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
