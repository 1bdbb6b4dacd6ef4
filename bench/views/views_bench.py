#!/usr/bin/env python3
"""Views benchmark: rows/s of `vesta view run` for the example views (views/) over a generated
population, against two baselines measured in the same run on the same resources.

Follows ../../../shared/design/BENCHMARKS.md: baselines in the same run, runs alternate after an
untimed warm-up, the median and min-max spread of the repeats are reported, peak RSS from
/usr/bin/time.

The population: `vesta generate --patients N --seed 1` (NDJSON, one file per type), loaded with
`vesta import` into a fresh SQLite data directory. Then, for each view (default
patient_demographics and observations), each round runs in turn:

  store       `vesta view run VIEW --data-dir DATA --format csv --out /dev/null`: rows/s over the
              wall time of the process (store opened, every page read, rows written).
  store scan  the ceiling: build/bench/views/view_scan (bench/views/view_scan.cc) reads the same
              type from the same store page by page as `vesta view run` does (Store::Search with
              _count and _cursor) and parses every stored JSON into a json::Document, evaluating
              nothing and writing nothing: resources/s over its wall time.
  ndjson      `vesta view run VIEW --ndjson TYPE.ndjson --format csv --out /dev/null`.
  ndjson scan view_scan over the same file: read line by line and parsed.
  sof-js      with --sof-js DIR: sof-js, the SQL on FHIR v2 reference implementation in
              JavaScript (the sof-js folder of FHIR/sql-on-fhir-v2; not on npm, never copied
              here), run under node by bench/views/sof_run.mjs over the first --sof-resources
              lines of TYPE.ndjson (it runs a few hundred resources a second: the whole file
              would take hours), rows written as NDJSON; against `vesta view run --format ndjson`
              over the same lines in the same round. The two outputs are compared row by row
              (sof-js keys are the bare id, Vesta's Type/id) and the report says whether they
              agree. Without --sof-js, or without node, the comparison is skipped with one line
              saying why.

Ratios: view rows/s over scan resources/s (each view gives one row per resource, so this is the
scan's time over the view's); Vesta rows/s over sof-js rows/s. Targets (issue 18): >= 0.5 and
>= 20.

Usage: bench/views/views_bench.py --vesta build/vesta [--scan build/bench/views/view_scan]
           [--patients 10000] [--repeats 3] [--views patient_demographics,observations]
           [--sof-js DIR] [--sof-resources 2000] [--workdir DIR]
Prints a Markdown section on stdout; progress goes to stderr.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
import lib  # noqa: E402

TARGET_SCAN = 0.5
TARGET_SOF = 20.0
RUN_TIMEOUT_S = 3600


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def git(*a):
    return subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True).stdout.strip()


def timed(cmd, rss=False):
    """Runs `cmd`; returns (wall seconds, stdout, stderr, peak RSS in KiB or None). Raises on a
    non-zero exit."""
    if rss:
        cmd = ["/usr/bin/time", "-f", "maxrss=%M", *cmd]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr[-500:]))
    m = re.search(r"maxrss=(\d+)", p.stderr) if rss else None
    return wall, p.stdout, p.stderr, int(m.group(1)) if m else None


def view_rows(stderr):
    m = re.search(r"vesta view run: (\d+) rows from (\d+) ", stderr)
    if not m:
        raise RuntimeError("no summary from vesta view run: %r" % stderr[-300:])
    return int(m.group(1)), int(m.group(2))


def kv(stdout, key):
    m = re.search(r"\b%s=([\d.]+)" % key, stdout)
    if not m:
        raise RuntimeError("no %s= in %r" % (key, stdout))
    return float(m.group(1))


def run_view(vesta, view, source, fmt="csv", out=os.devnull):
    wall, _, err, rss = timed([vesta, "view", "run", view, *source, "--format", fmt, "--out", out],
                              rss=True)
    rows, resources = view_rows(err)
    return {"s": wall, "rows": rows, "resources": resources, "rate": rows / wall, "rss": rss}


def run_scan(scan, rtype, source):
    wall, out, _, _ = timed([scan, "--type", rtype, *source])
    n = int(kv(out, "resources"))
    return {"s": wall, "resources": n, "bytes": int(kv(out, "bytes")), "rate": n / wall}


def run_sof(sof_js, view, files, out):
    wall, stdout, _, rss = timed(["node", os.path.join(HERE, "sof_run.mjs"), "--sof-js", sof_js,
                                  "--view", view, "--out", out, *files], rss=True)
    rows = int(kv(stdout, "rows"))
    return {"s": wall, "rows": rows, "rate": rows / wall, "rss": rss}


KEY = re.compile(r"^[A-Z][A-Za-z]+/([A-Za-z0-9\-.]{1,64})$")


def normalized_rows(path):
    """The rows of an NDJSON file as a sorted list of canonical strings: keys `Type/id` become
    `id` (sof-js's getResourceKey() and getReferenceKey() give the bare id) and numbers compare by
    value."""
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            row = {}
            for k, v in json.loads(line).items():
                if isinstance(v, str):
                    m = KEY.match(v)
                    v = m.group(1) if m else v
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    v = float(v)
                row[k] = v
            out.append(json.dumps(row, sort_keys=True))
    return sorted(out)


def head_lines(src, dst, n):
    with open(src) as f, open(dst, "w") as g:
        for i, line in enumerate(f):
            if i >= n:
                break
            g.write(line)


def prepare(args, vesta, work):
    pop = os.path.join(work, "pop")
    data = os.path.join(work, "data")
    marker = os.path.join(work, "population.json")
    info = None
    if os.path.exists(marker):
        info = json.load(open(marker))
        if info.get("patients") != args.patients or not os.path.isdir(data):
            info = None
    if info is None:
        shutil.rmtree(pop, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
        log("generating %d patients" % args.patients)
        subprocess.run([vesta, "generate", "--patients", str(args.patients), "--seed", "1",
                        "--threads", "2", "--quiet", "--out", pop], check=True)
        counts = {}
        size = 0
        for name in sorted(os.listdir(pop)):
            path = os.path.join(pop, name)
            size += os.path.getsize(path)
            with open(path, "rb") as f:
                counts[name[:-len(".ndjson")]] = sum(1 for _ in f)
        log("importing %d resources" % sum(counts.values()))
        wall, _, _, _ = timed([vesta, "import", "--data-dir", data, "--quiet", pop])
        info = {"patients": args.patients, "counts": counts, "bytes": size, "import_s": wall,
                "store_bytes": sum(os.path.getsize(os.path.join(data, f))
                                   for f in os.listdir(data))}
        json.dump(info, open(marker, "w"))
    return pop, data, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vesta", required=True)
    ap.add_argument("--scan", help="view_scan (default: bench/views/view_scan beside --vesta)")
    ap.add_argument("--patients", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--views", default="patient_demographics,observations")
    ap.add_argument("--sof-js", help="the sof-js folder of FHIR/sql-on-fhir-v2")
    ap.add_argument("--sof-resources", type=int, default=2000)
    ap.add_argument("--workdir", help="keep the population and store here (reused when the size "
                    "matches)")
    args = ap.parse_args()

    scan = args.scan or os.path.join(os.path.dirname(os.path.abspath(args.vesta)), "bench",
                                     "views", "view_scan")
    if not os.path.exists(scan):
        print("Skipped: %s is not built (cmake --build build --target view_scan)." %
              os.path.relpath(scan, ROOT))
        return
    sof_skip = None
    if not args.sof_js:
        sof_skip = "no sof-js folder given (--sof-js DIR: the sof-js folder of FHIR/sql-on-fhir-v2)"
    elif not os.path.exists(os.path.join(args.sof_js, "src", "index.js")):
        sof_skip = "%s has no src/index.js (not a sof-js folder)" % args.sof_js
    elif shutil.which("node") is None:
        sof_skip = "node is not installed"
    elif not os.path.isdir(os.path.join(ROOT, "node_modules", "fhirpath-sof-js")) and \
            not os.path.isdir(os.path.join(args.sof_js, "node_modules", "fhirpath")):
        sof_skip = "sof-js's fhirpath is not installed (npm ci)"
    if sof_skip:
        log("sof-js comparison skipped: " + sof_skip)

    views = args.views.split(",")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    dirty = git("status", "--porcelain", "--", "src", "views", "bench/views")
    state = "commit %s%s" % (git("rev-parse", "--short", "HEAD"),
                             " + uncommitted changes" if dirty else "")
    t0 = time.monotonic()
    with lib.work_dir("vesta-views-bench-", keep=args.workdir) as work:
        # One copy of the binary for every run: a build directory rebuilt meanwhile would
        # otherwise measure two binaries.
        vesta = os.path.join(work, "vesta")
        shutil.copy2(args.vesta, vesta)
        pop, data, info = prepare(args, vesta, work)
        res = {}
        for name in views:
            view = os.path.join(ROOT, "views", name + ".json")
            rtype = json.load(open(view))["resource"]
            ndjson = os.path.join(pop, rtype + ".ndjson")
            subset = os.path.join(work, "sof-%s.ndjson" % rtype)
            head_lines(ndjson, subset, args.sof_resources)
            store_src, file_src = ["--data-dir", data], ["--ndjson", ndjson]
            r = {"type": rtype, "store": [], "store_scan": [], "ndjson": [], "ndjson_scan": [],
                 "sof_vesta": [], "sof": [], "agree": None}
            log("%s: warm-up" % name)
            run_view(vesta, view, store_src)
            run_scan(scan, rtype, store_src)
            run_view(vesta, view, file_src)
            run_scan(scan, rtype, file_src)
            if not sof_skip:
                tiny = os.path.join(work, "sof-warm.ndjson")
                head_lines(ndjson, tiny, 100)
                run_sof(args.sof_js, view, [tiny], os.devnull)
            for k in range(args.repeats):
                a = run_view(vesta, view, store_src)
                b = run_scan(scan, rtype, store_src)
                c = run_view(vesta, view, file_src)
                d = run_scan(scan, rtype, file_src)
                for key, x in (("store", a), ("store_scan", b), ("ndjson", c), ("ndjson_scan", d)):
                    r[key].append(x)
                line = ("  %s round %d: store %.0f rows/s, scan %.0f/s; ndjson %.0f rows/s, "
                        "scan %.0f/s" % (name, k + 1, a["rate"], b["rate"], c["rate"], d["rate"]))
                if not sof_skip:
                    vrows = os.path.join(work, "vesta-rows.ndjson")
                    srows = os.path.join(work, "sof-rows.ndjson")
                    e = run_view(vesta, view, ["--ndjson", subset], "ndjson", vrows)
                    f = run_sof(args.sof_js, view, [subset], srows)
                    r["sof_vesta"].append(e)
                    r["sof"].append(f)
                    if r["agree"] is None:
                        r["agree"] = normalized_rows(vrows) == normalized_rows(srows)
                    line += "; sof-js subset: vesta %.0f rows/s, sof-js %.0f rows/s" % (
                        e["rate"], f["rate"])
                log(line)
            res[name] = r
    report(args, res, info, started, state, sof_skip, time.monotonic() - t0)


def ratios(xs, ys):
    return [x["rate"] / y["rate"] for x, y in zip(xs, ys)]


def report(args, res, info, started, state, sof_skip, elapsed):
    p = print
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
    counts = info["counts"]
    p("Measured %s, %d cores (`nproc`), %s GiB memory (`free -g` total), load average %s at the "
      "end; %s. Population: `vesta generate --patients %d --seed 1`: %s resources, %.0f MB of "
      "NDJSON (%s Patients, %s Observations), loaded with `vesta import` into a fresh SQLite data "
      "directory (%.0f s; %.0f MB on disk). %d rounds after an untimed warm-up of every part; "
      "median (min–max). Every rate is over the wall time of its process." % (
          started, os.cpu_count(), mem.split()[1],
          " ".join(open("/proc/loadavg").read().split()[:3]), state, info["patients"],
          lib.fmt_number(sum(counts.values())), info["bytes"] / 1e6,
          lib.fmt_number(counts.get("Patient", 0)), lib.fmt_number(counts.get("Observation", 0)),
          info["import_s"], info["store_bytes"] / 1e6, args.repeats))
    p()
    p("| view | source | `vesta view run` rows/s | baseline | baseline rate | ratio | target |")
    p("| --- | --- | ---: | --- | ---: | ---: | --- |")
    for name, r in res.items():
        for src, scan, label in (("store", "store_scan", "SQLite store"),
                                 ("ndjson", "ndjson_scan", "NDJSON file")):
            q = ratios(r[src], r[scan])
            p("| `%s` | %s | %s | raw scan (read + json::Parse) | %s | %s | ≥ %.1f%s |" % (
                name, label, lib.fmt_spread([x["rate"] for x in r[src]]),
                lib.fmt_spread([x["rate"] for x in r[scan]]), lib.fmt_ratio(q), TARGET_SCAN,
                "" if lib.median(q) >= TARGET_SCAN else " (not met)"))
        if r["sof"]:
            q = ratios(r["sof_vesta"], r["sof"])
            p("| `%s` | first %s lines of %s.ndjson | %s | sof-js under node | %s | %s | ≥ %d%s |" % (
                name, lib.fmt_number(args.sof_resources), r["type"],
                lib.fmt_spread([x["rate"] for x in r["sof_vesta"]]),
                lib.fmt_spread([x["rate"] for x in r["sof"]]), lib.fmt_ratio(q), TARGET_SOF,
                "" if lib.median(q) >= TARGET_SOF else " (not met)"))
    p()
    for name, r in res.items():
        a = r["store"][0]
        p("- `%s`: %s rows from %s %s resources; peak RSS of `vesta view run` %.0f MiB over the "
          "store, %.0f MiB over NDJSON%s." % (
              name, lib.fmt_number(a["rows"]), lib.fmt_number(a["resources"]), r["type"],
              max(x["rss"] for x in r["store"]) / 1024,
              max(x["rss"] for x in r["ndjson"]) / 1024,
              "" if not r["sof"] else "; sof-js peak RSS %.0f MiB; its rows %s Vesta's (keys "
              "compared as bare ids, numbers by value)" % (
                  max(x["rss"] for x in r["sof"]) / 1024,
                  "are the same as" if r["agree"] else "DIFFER from")))
    if sof_skip:
        p("- sof-js comparison skipped: %s." % sof_skip)
    p()
    p("_(%.0f s in all)_" % elapsed)


if __name__ == "__main__":
    main()
