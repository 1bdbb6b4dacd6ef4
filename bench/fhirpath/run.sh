#!/usr/bin/env bash
# FHIRPath benchmark: Vesta against fhirpath.js (HL7's reference implementation, under node) on the
# same workload, runs alternating A B A B ... (see docs/benchmarks.md, section FHIRPath).
#
#   bench/fhirpath/run.sh [build-dir] [rounds] [seconds-per-run]
#
# The workload (written by fhirpath_bench.js): every R4 search parameter expression on the first
# examples of its base resource types from node_modules/hl7.fhir.r4.examples, plus heavy
# expressions (descendants(), unions, filters) on every selected example.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"
ROUNDS="${2:-3}"
SECS="${3:-2}"
BIN="$BUILD_DIR/bench/fhirpath/fhirpath_bench"
[ -x "$BIN" ] || { echo "build $BIN first (ninja -C $BUILD_DIR fhirpath_bench)" >&2; exit 2; }
[ -d node_modules/fhirpath ] || { echo "run npm install first (fhirpath is a devDependency)" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
node bench/fhirpath/fhirpath_bench.js manifest node_modules/hl7.fhir.r4.examples "$WORK/manifest.json"
# Warm-up (caches, page cache); the timed runs below also warm up before timing.
"$BIN" "$WORK/manifest.json" 0.2 > /dev/null
node bench/fhirpath/fhirpath_bench.js run "$WORK/manifest.json" 0.2 > /dev/null
for _ in $(seq 1 "$ROUNDS"); do
  "$BIN" "$WORK/manifest.json" "$SECS" >> "$WORK/vesta.jsonl"
  node bench/fhirpath/fhirpath_bench.js run "$WORK/manifest.json" "$SECS" >> "$WORK/js.jsonl"
done
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores," \
     "$(free -g | awk '/Mem:/ {print $2}') GiB"
python3 - "$WORK" <<'PY'
import json, statistics, sys
work = sys.argv[1]
v = [json.loads(l) for l in open(work + "/vesta.jsonl")]
j = [json.loads(l) for l in open(work + "/js.jsonl")]
ratios = [b["ns_per_eval"] / a["ns_per_eval"] for a, b in zip(v, j)]
vn = [a["ns_per_eval"] for a in v]
jn = [b["ns_per_eval"] for b in j]
print(f"pairs per pass: {v[0]['pairs']} (Vesta dropped {v[0]['dropped']}); result items per pass: "
      f"Vesta {v[0]['items']}, {j[0]['engine']} {j[0]['items']}")
print(f"Vesta       ns/eval: median {statistics.median(vn):.0f} (min {min(vn):.0f}, max {max(vn):.0f})")
print(f"fhirpath.js ns/eval: median {statistics.median(jn):.0f} (min {min(jn):.0f}, max {max(jn):.0f})")
print(f"speed-up (fhirpath.js / Vesta, per round): median {statistics.median(ratios):.1f}x "
      f"(min {min(ratios):.1f}x, max {max(ratios):.1f}x) over {len(ratios)} rounds")
PY
