#!/usr/bin/env python3
"""Server benchmarks for the core REST API (read, durable create, start-up).

Follows ../../../shared/design/BENCHMARKS.md: every figure has a baseline measured in the same
run, runs alternate A B A B ..., the median and the min-max spread are reported, one untimed
warm-up run comes first, and wrk runs on loopback with a fixed duration and connection count.

  (a) read of a stored ~1 KB Observation vs GET /healthz on the same server (ratio)
  (b) durable creates/s with 1 and 32 clients (synchronous=FULL: acknowledged = synced), against
      raw SQLite doing the same durable inserts one transaction per row in the same run
  (c) start-up to ready (R4 model loaded, store open), against `vesta --version` (process start)

Usage: bench/server/server_bench.py [--vesta build/vesta] [--repeats 3] [--duration 4]
Prints a Markdown section on stdout.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402

OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                              "code": "vital-signs", "display": "Vital Signs"}]}],
    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9",
                         "display": "Blood pressure panel with all children optional"}],
             "text": "Blood pressure systolic & diastolic"},
    "subject": {"reference": "Patient/example"},
    "effectiveDateTime": "2012-09-17",
    "performer": [{"reference": "Practitioner/example"}],
    "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                    "code": "L", "display": "low"}], "text": "Below low normal"}],
    "bodySite": {"coding": [{"system": "http://snomed.info/sct", "code": "368209003", "display": "Right arm"}]},
    "component": [
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6", "display": "Systolic blood pressure"}]},
         "valueQuantity": {"value": 107, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4", "display": "Diastolic blood pressure"}]},
         "valueQuantity": {"value": 60.50, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
    ],
}

CREATE_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.body = [[%s]]
"""


med = lib.median


def spread(xs):
    return "%s–%s" % (fmt(min(xs)), fmt(max(xs)))


def fmt(x):
    return "{:,.0f}".format(x) if x >= 100 else "{:.2f}".format(x)


def quiesce():
    """Flushes dirty pages to disk and lets the writeback settle before a timed write run."""
    os.sync()
    time.sleep(0.5)


def raw_sqlite_inserts(path, clients, duration, payload):
    """Durable inserts straight into SQLite (WAL, synchronous=FULL), one transaction per row,
    `clients` threads each with its own connection: what the disk allows without group commit."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS r (id INTEGER PRIMARY KEY, json BLOB)")
    db.close()
    count = [0] * clients
    deadline = time.monotonic() + duration

    def worker(i):
        c = sqlite3.connect(path, timeout=30, isolation_level=None)
        c.execute("PRAGMA synchronous=FULL")
        while time.monotonic() < deadline:
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO r (json) VALUES (?)", (payload,))
            c.execute("COMMIT")
            count[i] += 1
        c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(count) / (time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=4)
    args = ap.parse_args()
    vesta = os.path.abspath(args.vesta)
    body = json.dumps(OBSERVATION, separators=(",", ":"))
    out = []
    with lib.work_dir("vesta-bench-") as work:
        lua = os.path.join(work, "create.lua")
        with open(lua, "w") as f:
            f.write(CREATE_LUA % body)
        # (c) start-up: alternate `vesta --version` (baseline: process start) and serve-to-ready.
        startup, baseline = [], []
        for i in range(args.repeats + 1):
            t0 = time.monotonic()
            subprocess.run([vesta, "--version"], capture_output=True, check=True)
            b = time.monotonic() - t0
            d = os.path.join(work, "startup-%d" % i)
            with lib.Server(vesta, d) as server:
                ready = server.ready_s
            if i > 0:  # the first pair is the warm-up
                baseline.append(b * 1000)
                startup.append(ready * 1000)

        with lib.Server(vesta, os.path.join(work, "data")) as server:
            base = server.base
            # The Observation's references must resolve (referential integrity is on by default).
            for rtype in ("Patient", "Practitioner"):
                urllib.request.urlopen(urllib.request.Request(
                    base + "/%s/example" % rtype, method="PUT",
                    data=json.dumps({"resourceType": rtype, "id": "example"}).encode(),
                    headers={"Content-Type": "application/fhir+json"})).read()
            req = urllib.request.Request(base + "/Observation", data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/fhir+json"})
            created = json.loads(urllib.request.urlopen(req).read())
            read_url = base + "/Observation/" + created["id"]
            size = len(urllib.request.urlopen(read_url).read())

            # (a) read vs /healthz, alternating, after a warm-up of each.
            lib.wrk(base + "/healthz", 1)
            lib.wrk(read_url, 1)
            health, read = [], []
            for _ in range(args.repeats):
                health.append(lib.wrk(base + "/healthz", args.duration))
                read.append(lib.wrk(read_url, args.duration))
            ratios = [r["rps"] / h["rps"] for r, h in zip(read, health)]

            # (b) durable creates, 1 and 32 clients, alternating with raw SQLite inserts.
            creates = {1: [], 32: []}
            raw = {1: [], 32: []}
            lib.wrk(base + "/Observation", 1, script=lua)
            for i in range(args.repeats):
                for c in (1, 32):
                    # Each write run starts with the page cache flushed, so that it does not pay
                    # for the previous run's writeback (the raw SQLite runs write as much as
                    # Vesta's).
                    quiesce()
                    creates[c].append(lib.wrk(base + "/Observation", args.duration, c, lua))
                    quiesce()
                    raw[c].append(raw_sqlite_inserts(
                        os.path.join(work, "raw-%d-%d.db" % (c, i)), c, args.duration, body))

        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
        out.append("Measured %s on commit %s, %d cores, %s GiB memory (`free -g` total); "
                   "wrk -t2 on loopback, %d s runs, %d alternating repeats, median (min–max)."
                   % (time.strftime("%Y-%m-%d"), commit, os.cpu_count(), mem.split()[1],
                      args.duration, args.repeats))
        out.append("")
        out.append("Command: `bench/server/server_bench.py --vesta build/vesta --repeats %d "
                   "--duration %d`" % (args.repeats, args.duration))
        out.append("")
        out.append("| benchmark | Vesta | baseline | ratio |")
        out.append("| --- | --- | --- | --- |")
        out.append("| (a) read %d-byte Observation, 32 conn: req/s | %s (%s) | /healthz: %s (%s) | %.2f (%.2f–%.2f) |"
                   % (size, fmt(med([r["rps"] for r in read])), spread([r["rps"] for r in read]),
                      fmt(med([h["rps"] for h in health])), spread([h["rps"] for h in health]),
                      med(ratios), min(ratios), max(ratios)))
        out.append("| (a) read p50 / p99 latency, ms | %.2f / %.2f | %.2f / %.2f | |"
                   % (med([r["p50"] for r in read]), med([r["p99"] for r in read]),
                      med([h["p50"] for h in health]), med([h["p99"] for h in health])))
        for c in (1, 32):
            vs = [x["rps"] for x in creates[c]]
            rr = [v / r for v, r in zip(vs, raw[c])]
            out.append("| (b) durable creates/s, %d client%s | %s (%s) | raw SQLite insert+commit, %d thread%s: %s (%s) | %.2f (%.2f–%.2f) |"
                       % (c, "" if c == 1 else "s", fmt(med(vs)), spread(vs), c, "" if c == 1 else "s",
                          fmt(med(raw[c])), spread(raw[c]), med(rr), min(rr), max(rr)))
            out.append("| (b) create p50 / p99 latency, ms, %d client%s | %.2f / %.2f | | |"
                       % (c, "" if c == 1 else "s", med([x["p50"] for x in creates[c]]),
                          med([x["p99"] for x in creates[c]])))
        out.append("| (c) start-up to ready, ms | %.0f (%.0f–%.0f) | `vesta --version`: %.0f | |"
                   % (med(startup), min(startup), max(startup), med(baseline)))
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
