#!/bin/sh
# Runs the store benchmark as docs/benchmarks.md reports it: one untimed warm-up run, then
# ROUNDS runs (default 5), each alternating the baselines and Vesta at 1 and 32 threads; prints the
# median and min-max of writes/s and of the ratio Vesta / raw SQLite per thread count.
#   bench/store/run.sh <build dir> [rounds]
set -eu
build=${1:?usage: run.sh <build dir> [rounds]}
rounds=${2:-5}
bin=$(find "$build" -name store_bench -type f -perm -u+x | head -n 1)
[ -n "$bin" ] || { echo "store_bench not found under $build" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" --benchmark_min_time=0.2 >/dev/null  # warm-up
i=1
while [ "$i" -le "$rounds" ]; do
  "$bin" --benchmark_format=json >"$out/run$i.json"
  i=$((i + 1))
done
python3 - "$out" <<'PY'
import glob, json, statistics, sys
runs = []
for path in sorted(glob.glob(sys.argv[1] + "/run*.json")):
    figures = {}
    for b in json.load(open(path))["benchmarks"]:
        name = b["name"]
        kind = ("vesta" if name.startswith("BM_Vesta") else
                "schema" if "VestaSchema" in name else "raw")
        figures[(kind, b["threads"])] = b["items_per_second"]
    runs.append(figures)
def summary(values):
    return "%.0f (%.0f-%.0f)" % (statistics.median(values), min(values), max(values))
def ratio_summary(values):
    return "%.2fx (%.2f-%.2f)" % (statistics.median(values), min(values), max(values))
print("| threads | raw SQLite writes/s | raw SQLite, Vesta schema | Vesta writes/s | Vesta / raw |")
print("| ---: | ---: | ---: | ---: | ---: |")
for threads in sorted({t for r in runs for (_, t) in r}):
    raw = [r[("raw", threads)] for r in runs]
    vesta = [r[("vesta", threads)] for r in runs]
    ratio = [r[("vesta", threads)] / r[("raw", threads)] for r in runs]
    schema = [r[("schema", threads)] for r in runs if ("schema", threads) in r]
    print("| %d | %s | %s | %s | %s |" % (threads, summary(raw), summary(schema) if schema else "-",
                                          summary(vesta), ratio_summary(ratio)))
print("\nmedian (min-max) over %d runs" % len(runs))
PY
