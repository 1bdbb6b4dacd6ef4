#!/usr/bin/env python3
"""Write throughput with materialized views (docs/analytics.md, "Materialized views") against the
same server without any, and how far the tables lag behind.

Follows ../../../shared/design/BENCHMARKS.md: A (no materialized view) and B (the example views
views/patient_demographics.json and views/observations.json stored with the materialize tag)
alternate (A B A B ...) after one untimed warm-up pair, each run on a fresh data directory with
`vesta serve` on loopback; the median and the min-max spread are reported. In each run wrk sends
durable creates with 32 connections for a fixed time, alternating a Patient and an Observation
(the blood pressure panel of bench/server), so both views have rows to make.

For B, once wrk stops the script polls the analytics database (analytics.db beside the store)
until the observations table holds a row for every Observation the store has: the time that takes
is the lag at the end of a saturating load (the tables trail the store by at most that much), and
the rows of both tables over the run's time plus that lag is the materialization rate.

Usage: bench/analytics/materialize_bench.py --vesta build/vesta [--repeats 3] [--duration 5]
                                            [--connections 32] [--interval-ms 250]
Prints a Markdown section on stdout.
"""
import argparse
import json
import os
import sqlite3
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
import lib  # noqa: E402
from server_bench import OBSERVATION, quiesce  # noqa: E402

PATIENT = {"resourceType": "Patient", "active": True, "gender": "female", "birthDate": "1970-03-04",
           "identifier": [{"system": "http://hospital.example.org/mrn", "value": "12345"}],
           "name": [{"use": "official", "family": "Benchmark", "given": ["Ada"]}],
           "address": [{"postalCode": "02139"}]}

# Alternates a Patient and an Observation create.
MIXED_LUA = """
local bodies = { [[%s]], [[%s]] }
local paths = { "/Patient", "/Observation" }
local n = 0
request = function()
  n = n + 1
  local i = (n %% 2) + 1
  return wrk.format("POST", paths[i], {["Content-Type"] = "application/fhir+json"}, bodies[i])
end
"""

VIEWS = ["patient_demographics", "observations"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def request(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}")


def store_views(server):
    for name in VIEWS:
        with open(os.path.join(ROOT, "views", name + ".json")) as f:
            view = json.load(f)
        view_id = name.replace("_", "-")
        view["id"] = view_id
        view.setdefault("meta", {})["tag"] = [{"system": "urn:vesta:analytics",
                                               "code": "materialize"}]
        request(server.url("/ViewDefinition/" + view_id), "PUT", view)


def count(server, type_):
    return request(server.url("/%s?_summary=count" % type_))["total"]


def table_rows(path, table):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
        try:
            return db.execute('SELECT count(DISTINCT _resource) FROM "%s"' % table).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return -1


def run(args, work, views):
    run.count += 1
    data = os.path.join(work, "data-%d-%s" % (run.count, "views" if views else "none"))
    with lib.Server(args.vesta, data, extra=["--referential-integrity", "off",
                                            "--analytics-interval-ms", str(args.interval_ms)]) as server:
        if views:
            store_views(server)
        script = os.path.join(work, "mixed.lua")
        with open(script, "w") as f:
            f.write(MIXED_LUA % (json.dumps(PATIENT), json.dumps(OBSERVATION)))
        quiesce()
        t0 = time.monotonic()
        r = lib.wrk(server.url("/"), duration=args.duration, connections=args.connections,
                    script=script, latency=False)
        elapsed = time.monotonic() - t0
        out = {"rps": r["rps"]}
        if views:
            observations = count(server, "Observation")
            patients = count(server, "Patient")
            analytics = os.path.join(data, "analytics.db")
            deadline = time.monotonic() + 120  # bounded: a table that never catches up fails
            while time.monotonic() < deadline:
                if table_rows(analytics, "observations") >= observations:
                    break
                time.sleep(0.02)
            lag = time.monotonic() - t0 - elapsed
            caught = table_rows(analytics, "observations")
            if caught < observations:
                raise SystemExit("the observations table did not catch up: %d of %d" %
                                 (caught, observations))
            out["lag"] = max(lag, 0.0)
            out["materialized"] = (observations + patients) / (elapsed + out["lag"])
            out["resources"] = observations + patients
        return out


run.count = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--interval-ms", type=int, default=250)
    args = ap.parse_args()
    args.vesta = os.path.abspath(args.vesta)
    none, views = [], []
    with lib.work_dir("vesta-mat-") as work:
        log("warm-up pair")
        run(args, work, False)
        run(args, work, True)
        for i in range(args.repeats):
            log("repeat %d: no views" % (i + 1))
            none.append(run(args, work, False))
            log("repeat %d: two materialized views" % (i + 1))
            views.append(run(args, work, True))
    a = [x["rps"] for x in none]
    b = [x["rps"] for x in views]
    ratios = [y / x for x, y in zip(a, b)]
    print("### Write throughput with materialized views\n")
    print("`python3 bench/analytics/materialize_bench.py --vesta build/vesta --repeats %d "
          "--duration %g --connections %d --interval-ms %d` (SQLite store, durable creates "
          "alternating Patient and Observation, %d connections, %g s per run; median of %d, "
          "min–max in brackets)\n" % (args.repeats, args.duration, args.connections,
                                      args.interval_ms, args.connections, args.duration,
                                      args.repeats))
    print("| | creates/s | ratio to no views |")
    print("|---|---:|---:|")
    print("| no materialized view | %s | 1 |" % lib.fmt_spread(a))
    print("| two materialized views (patient_demographics, observations) | %s | %s |" %
          (lib.fmt_spread(b), lib.fmt_ratio(ratios)))
    print()
    print("Target: ≥ 0.8×. With the views, at the end of each run the tables had caught up "
          "%s s after the load stopped (median; min–max %s); rows were materialized at %s "
          "resources/s over the run and that lag." % (
              "{:.2f}".format(lib.median([x["lag"] for x in views])),
              "–".join("{:.2f}".format(f(x["lag"] for x in views)) for f in (min, max)),
              lib.fmt_spread([x["materialized"] for x in views])))


if __name__ == "__main__":
    main()
