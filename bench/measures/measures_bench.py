#!/usr/bin/env python3
"""Measures benchmark: patients/s of a population `Measure/[id]/$evaluate-measure` for CMS122 and
CMS130 against the time to read the same patients' compartments without evaluating.

The population: `vesta generate --patients N --seed 1 --measures` (NDJSON; docs/generate.md,
"Quality measures": enough patients in every population of both measures), loaded with
`vesta import` into a fresh SQLite data directory together with the measures, their libraries and
their value sets from ../shared/data/ecqm (the 2021 FHIR measure content; never copied into the
repository). The Measurement Period is calendar 2024.

1. `vesta serve` on that store: an untimed `$evaluate-measure` of each measure, then `--repeats`
   rounds of GET Measure/[id]/$evaluate-measure?periodStart=2024-01-01&periodEnd=2024-12-31
   (reportType population: every patient of the store), alternating the two measures. Reported:
   patients/s over the request's wall time, and patients per CPU second of the server process
   (its utime + stime during the request: the per-core figure, which the other load on a shared
   machine does not dilute).
2. The ceiling, with the server stopped: bench/measures/measure_read (measure_read.cc) evaluates
   the measure once in-process to record which types each patient's evaluation retrieves, then
   alternates, `--repeats` times, reading exactly those compartments (the same paging, the same
   per-type compartment search, every resource parsed, the same thread count) and the in-process
   evaluation. Ratio = evaluation rate / read rate in the same round (target >= 0.3).

    python3 bench/measures/measures_bench.py --vesta build/vesta [--patients 10000] [--repeats 3]
        [--workdir DIR]

Markdown on stdout, progress on stderr. Blaze's published figure (2.3-4.7 million patients/s for
a single retrieve-exists query on large hardware) is theirs, quoted for scale, not measured here.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import lib  # noqa: E402

RUN_TIMEOUT_S = 3600
TARGET = 0.3
PERIOD = ("2024-01-01", "2024-12-31")
MEASURES = [
    # (short name, Measure file stem, value set folder)
    ("CMS122", "DiabetesHemoglobinA1cHbA1cPoorControl9FHIR-0.0.015",
     "DiabetesHemoglobinA1cHbA1cPoorControl9FHIR"),
    ("CMS130", "ColorectalCancerScreeningsFHIR-0.0.003", "ColorectalCancerScreeningsFHIR"),
]
POPULATIONS = ["initial-population", "denominator", "denominator-exclusion", "numerator"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def git(*a):
    return subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True).stdout.strip()


def run(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr[-500:]))
    return time.monotonic() - t0, p.stdout


def prepare(args, vesta, work):
    pop = os.path.join(work, "pop")
    art = os.path.join(work, "artifacts")
    data = os.path.join(work, "data")
    marker = os.path.join(work, "population.json")
    info = None
    if os.path.exists(marker):
        info = json.load(open(marker))
        if info.get("patients") != args.patients or not os.path.isdir(data):
            info = None
    if info is not None:
        return data, info
    for d in (pop, art, data):
        shutil.rmtree(d, ignore_errors=True)
    log("generating %d patients" % args.patients)
    subprocess.run([vesta, "generate", "--patients", str(args.patients), "--seed", "1",
                    "--measures", "--threads", "2", "--quiet", "--out", pop], check=True)
    counts, size = {}, 0
    for name in sorted(os.listdir(pop)):
        path = os.path.join(pop, name)
        size += os.path.getsize(path)
        with open(path, "rb") as f:
            counts[name[:-len(".ndjson")]] = sum(1 for _ in f)
    # The measures, every library (the measures include nine of them) and the value sets.
    os.makedirs(art)
    for name in os.listdir(os.path.join(args.ecqm, "libraries")):
        shutil.copy(os.path.join(args.ecqm, "libraries", name), art)
    for _, stem, folder in MEASURES:
        shutil.copy(os.path.join(args.ecqm, "measures", "Measure-%s.json" % stem), art)
        shutil.copy(os.path.join(args.ecqm, "tests", folder,
                                 "valuesets-%s-bundle.json" % folder), art)
    log("importing the measures' artifacts")
    # Some libraries of the content refer to a Device not shipped, and one lacks required
    # elements: lenient, without the reference check, as the stewards' content needs.
    run([vesta, "import", "--data-dir", data, "--quiet", "--validation", "lenient",
         "--referential-integrity", "off", "--rejects", os.path.join(work, "rejects.ndjson"), art])
    log("importing %d resources" % sum(counts.values()))
    wall, _ = run([vesta, "import", "--data-dir", data, "--quiet",
                   "--rejects", os.path.join(work, "rejects.ndjson"), pop])
    info = {"patients": args.patients, "counts": counts, "bytes": size, "import_s": wall,
            "store_bytes": sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data))}
    json.dump(info, open(marker, "w"))
    return data, info


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def populations(report):
    return {p["code"]["coding"][0]["code"]: p["count"] for p in report["group"][0]["population"]}


def evaluate_on_server(server, measure_id):
    url = server.url("/Measure/%s/$evaluate-measure?periodStart=%s&periodEnd=%s" % (
        measure_id, PERIOD[0], PERIOD[1]))
    c0 = cpu_seconds(server.pid)
    t0 = time.monotonic()
    with urllib.request.urlopen(url, timeout=RUN_TIMEOUT_S) as r:
        body = r.read()
    wall = time.monotonic() - t0
    cpu = cpu_seconds(server.pid) - c0
    return wall, cpu, populations(json.loads(body))


def measure_url(args, stem):
    return json.load(open(os.path.join(args.ecqm, "measures", "Measure-%s.json" % stem)))["url"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vesta", required=True)
    ap.add_argument("--read", help="measure_read (default: bench/measures/measure_read beside "
                    "--vesta)")
    ap.add_argument("--ecqm", default=os.path.join(
        os.environ.get("VESTA_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data")), "ecqm"))
    ap.add_argument("--patients", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads of the in-process runs (the server uses one per core)")
    ap.add_argument("--workdir", help="keep the population and store here (reused when the size "
                    "matches)")
    args = ap.parse_args()
    vesta = os.path.abspath(args.vesta)
    reader = args.read or os.path.join(os.path.dirname(vesta), "bench", "measures",
                                       "measure_read")
    if not os.path.isdir(os.path.join(args.ecqm, "measures")):
        sys.exit("the measure content is not at %s (--ecqm or VESTA_SHARED_DATA)" % args.ecqm)
    started = time.strftime("%Y-%m-%d %H:%M")
    state = "commit %s%s" % (git("rev-parse", "--short", "HEAD"),
                             " with uncommitted changes" if git("status", "--porcelain", "--",
                                                                "src", "bench") else "")
    t_all = time.monotonic()
    with lib.work_dir("vesta-measures-", keep=args.workdir) as work:
        data, info = prepare(args, vesta, work)
        res = {name: {"server": [], "read": [], "evaluate": [], "pops": None, "types": ""}
               for name, _, _ in MEASURES}
        log("serving")
        with lib.Server(vesta, data) as server:
            for name, stem, _ in MEASURES:  # warm-up
                measure_id = stem.rsplit("-", 1)[0]
                wall, cpu, pops = evaluate_on_server(server, measure_id)
                res[name]["pops"] = pops
                log("%s warm-up %.1f s %s" % (name, wall, pops))
            for r in range(args.repeats):
                for name, stem, _ in MEASURES:
                    wall, cpu, pops = evaluate_on_server(server, stem.rsplit("-", 1)[0])
                    if pops != res[name]["pops"]:
                        raise RuntimeError("%s: populations changed: %s" % (name, pops))
                    res[name]["server"].append({"rate": info["patients"] / wall,
                                                "per_cpu": info["patients"] / cpu, "cpu": cpu})
                    log("%s round %d: %.1f s, %.1f CPU s" % (name, r + 1, wall, cpu))
        for name, stem, _ in MEASURES:
            log("%s: in-process evaluation and compartment reads" % name)
            _, out = run([reader, "--data-dir", data, "--measure", measure_url(args, stem),
                          "--period-start", PERIOD[0], "--period-end", PERIOD[1],
                          "--threads", str(args.threads), "--rounds", str(args.repeats)])
            for line in out.splitlines():
                m = re.match(r"(read|evaluate) round=\d+ patients=(\d+).*seconds=([\d.]+)", line)
                if m:
                    res[name][m.group(1)].append({"rate": int(m.group(2)) / float(m.group(3))})
                    if m.group(1) == "read":
                        res[name]["resources"] = int(re.search(r"resources=(\d+)", line).group(1))
                        res[name]["retrieves"] = int(re.search(r"retrieves=(\d+)", line).group(1))
                m = re.match(r"warmup .* types=(\S*)", line)
                if m:
                    res[name]["types"] = m.group(1).rstrip(",")
                m = re.match(r"report (.*)", line)
                if m and populations(json.loads(m.group(1))) != res[name]["pops"]:
                    raise RuntimeError("%s: in-process populations differ from the server's" %
                                       name)
    report(args, res, info, started, state, time.monotonic() - t_all)


def report(args, res, info, started, state, elapsed):
    p = print
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
    counts = info["counts"]
    p("Measured %s, %d cores (`nproc`), %s GiB memory (`free -g` total), load average %s at the "
      "end; %s. Population: `vesta generate --patients %d --seed 1 --measures`: %s resources, "
      "%.0f MB of NDJSON (%s Observations), loaded with `vesta import` into a fresh SQLite data "
      "directory (%.0f s; %.0f MB on disk) with the measures, their libraries and value sets. "
      "Measurement Period 2024; every patient of the store evaluated (reportType population). "
      "%d rounds after an untimed warm-up; median (min–max)." % (
          started, os.cpu_count(), mem.split()[1],
          " ".join(open("/proc/loadavg").read().split()[:3]), state, info["patients"],
          lib.fmt_number(sum(counts.values())), info["bytes"] / 1e6,
          lib.fmt_number(counts.get("Observation", 0)), info["import_s"],
          info["store_bytes"] / 1e6, args.repeats))
    p()
    p("| measure | `$evaluate-measure` patients/s | per CPU second of the server | "
      "in-process evaluation (%d threads) | compartments read, not evaluated (the ceiling) | "
      "ratio | target |" % args.threads)
    p("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, r in res.items():
        q = [e["rate"] / c["rate"] for e, c in zip(r["evaluate"], r["read"])]
        qs = [s["rate"] / c["rate"] for s, c in zip(r["server"], r["read"])]
        p("| %s | %s | %s | %s | %s | in-process %s; server %s | ≥ %.1f%s |" % (
            name, lib.fmt_spread([x["rate"] for x in r["server"]]),
            lib.fmt_spread([x["per_cpu"] for x in r["server"]]),
            lib.fmt_spread([x["rate"] for x in r["evaluate"]]),
            lib.fmt_spread([x["rate"] for x in r["read"]]), lib.fmt_ratio(q), lib.fmt_ratio(qs),
            TARGET, "" if lib.median(q) >= TARGET else " (not met)"))
    p()
    p("Populations (the same on the server and in-process):")
    p()
    p("| measure | %s |" % " | ".join(POPULATIONS))
    p("| --- |%s" % (" ---: |" * len(POPULATIONS)))
    for name, r in res.items():
        p("| %s | %s |" % (name, " | ".join("{:,}".format(r["pops"].get(k, 0))
                                            for k in POPULATIONS)))
    p()
    for name, r in res.items():
        p("- %s: each patient's evaluation retrieves %s types (%s); the ceiling reads %s "
          "resources in %s compartment reads." % (
              name, "%.1f" % (r["retrieves"] / info["patients"]), r["types"],
              lib.fmt_number(r["resources"]), lib.fmt_number(r["retrieves"])))
    p("- For scale: Blaze reports 2.3–4.7 million patients/s for a single retrieve-exists query "
      "on large hardware (their figure, not measured here; a whole measure's populations are "
      "much more than one retrieve).")
    p()
    p("_(%.0f s in all)_" % elapsed)


if __name__ == "__main__":
    main()
