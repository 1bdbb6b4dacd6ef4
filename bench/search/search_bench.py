#!/usr/bin/env python3
"""Search benchmarks (docs/search.md) on generated populations of two sizes.

Follows ../../../shared/design/BENCHMARKS.md: a baseline in the same run (GET /healthz on the
same server), runs alternate query / baseline, the median and min-max spread of the repeats are
reported after one untimed warm-up, wrk runs on loopback with a fixed duration and connection
count, and the cost growth between sizes an order of magnitude apart is given as a ratio.

For each population size: `vesta generate --format ndjson` (deterministic, fixed seed), `vesta
import` (the index hook extracts every search parameter at write time), then `vesta serve` and
  (a) ten typical clinical searches: requests/s, p50 and p99 latency, and requests/s over the
      baseline's;
  (b) resources matched per second with _summary=count for three broad searches (total x req/s).

Usage: bench/search/search_bench.py --vesta build/vesta [--generator build/vesta]
           [--sizes 1000,10000] [--repeats 3] [--duration 4] [--connections 32]
Prints a Markdown section on stdout; progress goes to stderr.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def start_server(vesta, data_dir):
    proc = subprocess.Popen([vesta, "serve", "--listen", "127.0.0.1", "--port", "0",
                             "--data-dir", data_dir, "--threads", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    m = re.search(r":(\d+)\s*$", line)
    if not m:
        proc.kill()
        raise RuntimeError("server did not start: %r" % line)
    return proc, int(m.group(1))


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(url, connections, duration):
    cmd = ["wrk", "-t2", "-c%d" % connections, "-d%ds" % duration, "--latency",
           "--timeout", "10s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError("wrk saw error responses for %s" % url)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % p, out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    return rps, pct(50), pct(99)


def get_json(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def first_lines(path, n):
    out = []
    with open(path) as f:
        for line in f:
            out.append(json.loads(line))
            if len(out) >= n:
                break
    return out


def pick_sample(pop):
    """A patient with observations, its name, a frequent Observation code, a Condition code."""
    obs = first_lines(os.path.join(pop, "Observation.ndjson"), 5000)
    counts = {}
    for o in obs:
        c = o["code"]["coding"][0]
        key = (c.get("system", ""), c["code"])
        counts[key] = counts.get(key, 0) + 1
    code = max(counts, key=counts.get)
    patient_ref = obs[0]["subject"]["reference"]
    pid = patient_ref.split("/")[1]
    family = given = ""
    for p in first_lines(os.path.join(pop, "Patient.ndjson"), 100000):
        if p["id"] == pid:
            family = p["name"][0].get("family", "")
            given = (p["name"][0].get("given") or [""])[0]
            break
    cond = first_lines(os.path.join(pop, "Condition.ndjson"), 1)[0]["code"]["coding"][0]
    return pid, family, given, code, (cond.get("system", ""), cond["code"])


def queries(pid, family, given, code, cond):
    q = urllib.parse.quote
    tok = q("%s|%s" % code, safe="")
    ctok = q("%s|%s" % cond, safe="")
    return [
        ("patient by name", "/Patient?family=%s&given=%s" % (q(family), q(given))),
        ("patient demographics", "/Patient?gender=female&birthdate=ge1980-01-01&_count=20"),
        ("patient's vitals by code, newest first",
         "/Observation?patient=%s&code=%s&_sort=-date&_count=20" % (pid, tok)),
        ("patient's observations since a date", "/Observation?patient=%s&date=ge2024-01-01" % pid),
        ("patient's conditions", "/Condition?patient=%s" % pid),
        ("patient's encounters, newest first", "/Encounter?patient=%s&_sort=-date&_count=10" % pid),
        ("compartment: patient's immunizations", "/Patient/%s/Immunization" % pid),
        ("population: code in a date range",
         "/Observation?code=%s&date=ge2025-01-01&_count=50" % tok),
        ("chained: observations by patient name",
         "/Observation?subject:Patient.family=%s&code=%s&_count=20" % (q(family), tok)),
        ("reverse chained: patients with a condition",
         "/Patient?_has:Condition:subject:code=%s&_count=20" % ctok),
    ], [
        ("Observation?code (summary count)", "/Observation?code=%s&_summary=count" % tok),
        ("Observation?date=ge2024 (summary count)",
         "/Observation?date=ge2024-01-01&_summary=count"),
        ("Patient?gender=female (summary count)", "/Patient?gender=female&_summary=count"),
    ]


def median_spread(xs):
    return statistics.median(xs), min(xs), max(xs)


def run_size(args, n, workdir):
    pop = os.path.join(workdir, "pop%d" % n)
    data = os.path.join(workdir, "data%d" % n)
    reuse = args.reuse and os.path.isdir(pop) and os.path.isdir(data)
    if not reuse:
        shutil.rmtree(pop, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
        log("generate %d patients" % n)
        subprocess.run([args.generator, "generate", "--patients", str(n), "--seed", "7",
                        "--format", "ndjson", "--out", pop, "--quiet"], check=True, timeout=3600)
    resources = sum(sum(1 for _ in open(os.path.join(pop, f)))
                    for f in os.listdir(pop) if f.endswith(".ndjson"))
    import_s = float("nan")
    if not reuse:
        log("import %d resources" % resources)
        t0 = time.monotonic()
        subprocess.run([args.vesta, "import", "--data-dir", data, pop], check=True,
                       timeout=7200, stdout=subprocess.DEVNULL)
        import_s = time.monotonic() - t0
    db_mb = os.path.getsize(os.path.join(data, "vesta.db")) / 1e6
    pid, family, given, code, cond = pick_sample(pop)
    proc, port = start_server(args.vesta, data)
    base = "http://127.0.0.1:%d" % port
    rows, counts = [], []
    try:
        clinical, summary = queries(pid, family, given, code, cond)
        for name, path in clinical + summary:
            get_json(base + path)  # warm-up, and a check that it answers 200
        for name, path in clinical:
            a, b, p50s, p99s = [], [], [], []
            for _ in range(args.repeats):
                rps, p50, p99 = wrk(base + path, args.connections, args.duration)
                a.append(rps)
                p50s.append(p50)
                p99s.append(p99)
                b.append(wrk(base + "/healthz", args.connections, args.duration)[0])
            matches = len(get_json(base + path).get("entry", []))
            rows.append((name, path, median_spread(a), statistics.median(p50s),
                         statistics.median(p99s),
                         statistics.median(a) / max(statistics.median(b), 1e-9), matches))
            log("  %-45s %8.0f req/s" % (name, statistics.median(a)))
        for name, path in summary:
            total = get_json(base + path)["total"]
            a = [wrk(base + path, args.connections, args.duration)[0] for _ in range(args.repeats)]
            counts.append((name, total, median_spread(a), total * statistics.median(a)))
            log("  %-45s %8.0f matched/s" % (name, total * statistics.median(a)))
    finally:
        stop_server(proc)
    return dict(n=n, resources=resources, import_s=import_s, db_mb=db_mb, rows=rows,
                counts=counts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--generator", default=None, help="a vesta binary with `generate`")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--reuse", action="store_true",
                    help="reuse populations and stores already in --workdir (no import timing)")
    args = ap.parse_args()
    args.generator = args.generator or args.vesta
    workdir = args.workdir or tempfile.mkdtemp(prefix="vesta-search-bench-")
    results = [run_size(args, int(n), workdir) for n in args.sizes.split(",")]

    print("Populations (`vesta generate --seed 7`, loaded with `vesta import`, indexed at write "
          "time):\n")
    print("| patients | resources | import (s) | resources/s imported | vesta.db (MB) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print("| %d | %d | %.0f | %.0f | %.0f |" % (r["n"], r["resources"], r["import_s"],
                                                  r["resources"] / r["import_s"], r["db_mb"]))
    for r in results:
        print("\n%d patients: wrk %ds, %d connections, median of %d (min-max); baseline GET "
              "/healthz alternated with each query.\n" % (r["n"], args.duration,
                                                          args.connections, args.repeats))
        print("| query | matches (page) | req/s | p50 ms | p99 ms | / healthz |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, path, (m, lo, hi), p50, p99, ratio, matches in r["rows"]:
            print("| %s `%s` | %d | %.0f (%.0f-%.0f) | %.2f | %.2f | %.3f |" %
                  (name, path, matches, m, lo, hi, p50, p99, ratio))
        print("\n| _summary=count | total | req/s | resources matched/s |")
        print("| --- | ---: | ---: | ---: |")
        for name, total, (m, lo, hi), per_s in r["counts"]:
            print("| %s | %d | %.0f (%.0f-%.0f) | %.3g |" % (name, total, m, lo, hi, per_s))
    if len(results) == 2:
        small, big = results
        print("\nCost growth %d → %d patients (median req/s ratio small/big; 1.0 = flat):\n" %
              (small["n"], big["n"]))
        print("| query | %d req/s | %d req/s | ratio |" % (small["n"], big["n"]))
        print("| --- | ---: | ---: | ---: |")
        for a, b in zip(small["rows"], big["rows"]):
            ratio = "%.2f" % (a[2][0] / b[2][0]) if b[2][0] > 0 else "n/a (none in the run)"
            print("| %s | %.0f | %.0f | %s |" % (a[0], a[2][0], b[2][0], ratio))
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
