#!/usr/bin/env python3
"""How Vesta's costs grow with the data: generation, bulk import and reads at several sizes.

Follows ../../../shared/design/BENCHMARKS.md. For each population size (patients, from
`vesta generate --format ndjson`, fixed seed):
  - generation: patients/s, resources/s and peak resident memory (/usr/bin/time -v), against
    `cp -r` of the same bytes (baseline: the disk);
  - import: `vesta import --fast` resources/s and peak memory (must not grow with the input);
  - reads over HTTP with wrk (32 connections, random ids from the population): Patient and
    Observation read, and the first page of Patient/_history, each against GET /healthz of the
    same server in the same run (runs alternate; median and min-max of the repeats).
The last size over the first gives the cost growth. Writes a gnuplot data file and a PNG plot
(latency and throughput against data size) when an output folder is given.

Usage: bench/scale/scale_bench.py --vesta build/vesta [--sizes 1000,10000] [--repeats 3]
           [--duration 4] [--plot-dir docs/img]
Prints a Markdown section on stdout; progress on stderr.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402

READ_LUA = """
local ids = {}
for line in io.lines("%s") do ids[#ids + 1] = line end
math.randomseed(%d)
request = function()
  return wrk.format("GET", "/%s/" .. ids[math.random(#ids)])
end
"""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak RSS in MiB)."""
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    secs = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd[0], p.stderr[-500:]))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return secs, rss / 1024.0


def ids_of(ndjson, limit=20000):
    ids = []
    with open(ndjson) as f:
        for line in f:
            ids.append(json.loads(line)["id"])
            if len(ids) >= limit:
                break
    return ids


med = lib.median


def count_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def measure(args, size, work):
    out_dir = os.path.join(work, "gen-%d" % size)
    data = os.path.join(work, "data-%d" % size)
    log("size %d: generating" % size)
    gen_s, gen_rss = timed([args.vesta, "generate", "--patients", str(size), "--seed", "42",
                            "--format", "ndjson", "--out", out_dir])
    resources = sum(count_lines(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    nbytes = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    copy_dir = out_dir + "-copy"
    t0 = time.monotonic()
    shutil.copytree(out_dir, copy_dir)
    copy_s = time.monotonic() - t0
    shutil.rmtree(copy_dir)
    log("size %d: importing %d resources" % (size, resources))
    imp_s, imp_rss = timed([args.vesta, "import", "--fast", "--data-dir", data, out_dir])
    db_bytes = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data))

    lua = {}
    for rtype in ("Patient", "Observation"):
        idfile = os.path.join(work, "%s-%d.ids" % (rtype, size))
        with open(idfile, "w") as f:
            f.write("\n".join(ids_of(os.path.join(out_dir, rtype + ".ndjson"))) + "\n")
        lua[rtype] = os.path.join(work, "%s-%d.lua" % (rtype, size))
        with open(lua[rtype], "w") as f:
            f.write(READ_LUA % (idfile, size, rtype))
    shutil.rmtree(out_dir)

    with lib.Server(args.vesta, data) as server:
        base = server.base
        runs = {"healthz": [], "Patient": [], "Observation": [], "history": []}
        # warm-up: one short untimed run of each
        lib.wrk(base + "/healthz", 1)
        for rtype in ("Patient", "Observation"):
            lib.wrk(base, 1, script=lua[rtype])
        lib.wrk(base + "/Patient/_history?_count=50", 1)
        for _ in range(args.repeats):
            runs["healthz"].append(lib.wrk(base + "/healthz", args.duration))
            runs["Patient"].append(lib.wrk(base, args.duration, script=lua["Patient"]))
            runs["healthz"].append(lib.wrk(base + "/healthz", args.duration))
            runs["Observation"].append(lib.wrk(base, args.duration, script=lua["Observation"]))
            runs["history"].append(lib.wrk(base + "/Patient/_history?_count=50", args.duration))
    shutil.rmtree(data)
    return {
        "size": size, "resources": resources, "bytes": nbytes, "db_bytes": db_bytes,
        "gen_s": gen_s, "gen_rss": gen_rss, "copy_s": copy_s,
        "imp_s": imp_s, "imp_rss": imp_rss, "runs": runs,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--plot-dir", default="")
    args = ap.parse_args()
    args.vesta = os.path.abspath(args.vesta)
    sizes = [int(s) for s in args.sizes.split(",")]
    with lib.work_dir("vesta-scale-") as work:
        results = [measure(args, s, work) for s in sizes]

    out = []
    out.append("Command: `bench/scale/scale_bench.py --vesta build/vesta --sizes %s --repeats %d "
               "--duration %d`; seed 42; wrk 32 connections on loopback; median (min–max) of the "
               "repeats." % (args.sizes, args.repeats, args.duration))
    out.append("")
    out.append("| patients | resources | NDJSON MB | generate: resources/s | vs `cp -r` | gen peak RSS MiB "
               "| import: resources/s | import peak RSS MiB | store MB |")
    out.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        out.append("| %s | %s | %.0f | %s | %.1fx slower | %.1f | %s | %.1f | %.0f |" % (
            "{:,}".format(r["size"]), "{:,}".format(r["resources"]), r["bytes"] / 1e6,
            "{:,.0f}".format(r["resources"] / r["gen_s"]), r["gen_s"] / max(r["copy_s"], 1e-6),
            r["gen_rss"], "{:,.0f}".format(r["resources"] / r["imp_s"]), r["imp_rss"],
            r["db_bytes"] / 1e6))
    out.append("")
    out.append("| patients | request | req/s | vs /healthz | p50 ms | p99 ms |")
    out.append("| ---: | --- | ---: | ---: | ---: | ---: |")
    labels = {"Patient": "GET Patient/[random id]", "Observation": "GET Observation/[random id]",
              "history": "GET Patient/_history?_count=50"}
    for r in results:
        h = r["runs"]["healthz"]
        hr = med([x["rps"] for x in h])
        out.append("| %s | GET /healthz (baseline) | %s (%s–%s) | 1.00 | %.2f | %.2f |" % (
            "{:,}".format(r["size"]), "{:,.0f}".format(hr),
            "{:,.0f}".format(min(x["rps"] for x in h)), "{:,.0f}".format(max(x["rps"] for x in h)),
            med([x["p50"] for x in h]), med([x["p99"] for x in h])))
        for key in ("Patient", "Observation", "history"):
            xs = r["runs"][key]
            rps = [x["rps"] for x in xs]
            out.append("| %s | %s | %s (%s–%s) | %.2f | %.2f | %.2f |" % (
                "{:,}".format(r["size"]), labels[key], "{:,.0f}".format(med(rps)),
                "{:,.0f}".format(min(rps)), "{:,.0f}".format(max(rps)), med(rps) / hr,
                med([x["p50"] for x in xs]), med([x["p99"] for x in xs])))
    if len(results) >= 2:
        a, b = results[0], results[-1]
        out.append("")
        out.append("Cost growth from %s to %s patients (%.0fx the data):" % (
            "{:,}".format(a["size"]), "{:,}".format(b["size"]), b["resources"] / a["resources"]))
        for key in ("Patient", "Observation", "history"):
            pa = med([x["p50"] for x in a["runs"][key]])
            pb = med([x["p50"] for x in b["runs"][key]])
            out.append("- %s: p50 latency x%.2f, throughput x%.2f" % (
                labels[key], pb / pa,
                med([x["rps"] for x in b["runs"][key]]) / med([x["rps"] for x in a["runs"][key]])))
        out.append("- import peak memory x%.2f; generation peak memory x%.2f" % (
            b["imp_rss"] / a["imp_rss"], b["gen_rss"] / a["gen_rss"]))
    if args.plot_dir and shutil.which("gnuplot"):
        os.makedirs(args.plot_dir, exist_ok=True)
        dat = os.path.join(args.plot_dir, "scale.dat")
        with open(dat, "w") as f:
            f.write("# patients patient_rps patient_p50 patient_p99 obs_rps obs_p50 obs_p99 "
                    "hist_rps hist_p50 hist_p99 healthz_rps\n")
            for r in results:
                row = [r["size"]]
                for key in ("Patient", "Observation", "history"):
                    xs = r["runs"][key]
                    row += [med([x["rps"] for x in xs]), med([x["p50"] for x in xs]),
                            med([x["p99"] for x in xs])]
                row.append(med([x["rps"] for x in r["runs"]["healthz"]]))
                f.write(" ".join(str(v) for v in row) + "\n")
        png = os.path.join(args.plot_dir, "scale.png")
        script = """
set terminal pngcairo size 1000,420 font ",10"
set output '%s'
set multiplot layout 1,2
set logscale x
set xlabel 'patients'
set key top left
set title 'throughput relative to GET /healthz in the same run'
set yrange [0:1.1]
plot '%s' u 1:($2/$11) w lp t 'Patient read', '' u 1:($5/$11) w lp t 'Observation read', '' u 1:($8/$11) w lp t 'Patient history page'
set autoscale y
set title 'latency (ms)'
plot '%s' u 1:3 w lp t 'Patient p50', '' u 1:4 w lp t 'Patient p99', '' u 1:9 w lp t 'history p50', '' u 1:10 w lp t 'history p99'
unset multiplot
""" % (png, dat, dat)
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
        out.append("")
        out.append("![throughput and latency against data size](img/scale.png)")
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
