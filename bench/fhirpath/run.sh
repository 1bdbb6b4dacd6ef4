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
node bench/fhirpath/fhirpath_bench.js manifest node_modules/hl7.fhir.r4.examples \
  "$WORK/manifest.json" >&2
# Warm-up (caches, page cache); the timed runs below also warm up before timing.
"$BIN" "$WORK/manifest.json" 0.2 > /dev/null
node bench/fhirpath/fhirpath_bench.js run "$WORK/manifest.json" 0.2 > /dev/null
for _ in $(seq 1 "$ROUNDS"); do
  "$BIN" "$WORK/manifest.json" "$SECS" >> "$WORK/vesta.jsonl"
  node bench/fhirpath/fhirpath_bench.js run "$WORK/manifest.json" "$SECS" >> "$WORK/js.jsonl"
done
python3 - "$WORK" <<'PY'
import json, statistics, sys
work = sys.argv[1]
v = [json.loads(l) for l in open(work + "/vesta.jsonl")]
j = [json.loads(l) for l in open(work + "/js.jsonl")]
ratios = [b["ns_per_eval"] / a["ns_per_eval"] for a, b in zip(v, j)]
vn = [a["ns_per_eval"] for a in v]
jn = [b["ns_per_eval"] for b in j]
engine = j[0]["engine"]
print(f"Workload: every R4 search parameter expression on the first examples of its base types, "
      f"plus five `descendants()` expressions on every example: {v[0]['pairs']} "
      f"(expression, resource) pairs per pass, {v[0]['items']} result items from Vesta and "
      f"{j[0]['items']} from {engine}. {len(ratios)} rounds, alternating.")
print()
print("| engine | ns per evaluation, median (min–max) |")
print("| --- | ---: |")
print(f"| Vesta | {statistics.median(vn):.0f} ({min(vn):.0f}–{max(vn):.0f}) |")
print(f"| {engine} | {statistics.median(jn):.0f} ({min(jn):.0f}–{max(jn):.0f}) |")
print(f"| **speed-up ({engine.split()[0]} / Vesta, per round)** | "
      f"**{statistics.median(ratios):.1f}× ({min(ratios):.1f}×–{max(ratios):.1f}×)** |")
PY
