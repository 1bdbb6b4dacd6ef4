#!/usr/bin/env python3
"""Write cost per create (or update) of two vesta binaries, A and B (e.g. before and after an
index change).

Follows ../../../shared/design/BENCHMARKS.md: A and B alternate (A B A B ...) after one untimed
warm-up pair, each run on a fresh data directory; the median and the min-max spread are reported.
Each run starts `vesta serve` on loopback, has wrk POST the same resource with 32 connections
(--connections) for a fixed time (durable creates, the default durability), and reads from /proc
(with --updates: it first creates 1,000 resources with PUT, then wrk PUTs new versions of random
ones among them; "per create" then reads "per update"):

  writer CPU per create   the busiest thread's on-CPU time (/proc/PID/task/TID/schedstat): the
                          store's single writer thread, the serial part of every write
  server CPU per create   the whole process's on-CPU time
  written per create      bytes the process wrote to files and sockets during the run
                          (/proc/PID/io wchar: the write-ahead log, checkpoints into vesta.db,
                          and the HTTP responses, which are the same for A and B)
  bytes per create        vesta.db after a clean stop (the store checkpoints and truncates its
                          log), divided by the resources stored; with --tables, per table and
                          index from SQLite's dbstat

Usage: bench/server/write_cost.py --a OLD_BINARY --b NEW_BINARY [--body FILE.json] [--updates]
                                  [--connections 32] [--repeats 3] [--duration 5] [--tables]
Prints a Markdown table on stdout.
"""
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import urllib.request

# The Observation, the create script and the page-cache flush of server_bench.py.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402
from server_bench import CREATE_LUA, OBSERVATION, quiesce  # noqa: E402

# PUT of a new version of one of the resources u0..u999 (the body's id is replaced).
UPDATE_LUA = """
math.randomseed(os.time())
local body = [[%s]]
request = function()
  local id = "u" .. math.random(0, %d)
  local b = string.gsub(body, '"id":"__ID__"', '"id":"' .. id .. '"')
  return wrk.format("PUT", "/Observation/" .. id, {["Content-Type"] = "application/fhir+json"}, b)
end
"""
UPDATED = 1000  # resources created before an update run


def thread_cpu_ns(pid):
    """On-CPU nanoseconds of each thread of `pid`."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                out[tid] = int(f.read().split()[0])
        except OSError:
            pass
    return out


def written_bytes(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def stored_resources(data_dir, type_):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir, "vesta.db"), uri=True)
    n = db.execute("SELECT count(*) FROM resource WHERE type = ?", (type_,)).fetchone()[0]
    db.close()
    return n


def table_bytes(data_dir):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir, "vesta.db"), uri=True)
    rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    db.close()
    return dict(rows)


def one_run(vesta, work, name, lua, connections, duration, tables, updates, body):
    data = os.path.join(work, name)
    with lib.Server(vesta, data, ("--referential-integrity", "off")) as server:
        if updates:
            for i in range(UPDATED):
                doc = dict(body, id="u%d" % i)
                urllib.request.urlopen(urllib.request.Request(
                    server.url("/Observation/u%d" % i), method="PUT",
                    data=json.dumps(doc).encode(),
                    headers={"Content-Type": "application/fhir+json"})).read()
        before = thread_cpu_ns(server.pid)
        wrote_before = written_bytes(server.pid)
        lib.wrk(server.url("" if updates else "/Observation"), duration, connections, lua,
                latency=False)
        after = thread_cpu_ns(server.pid)
        wrote = written_bytes(server.pid) - wrote_before
    creates = stored_resources(data, "Observation") - (UPDATED if updates else 0)
    deltas = {t: after[t] - before.get(t, 0) for t in after}
    result = {
        "creates_per_s": creates / duration,
        "writer_us": max(deltas.values()) / 1000.0 / creates,
        "server_us": sum(deltas.values()) / 1000.0 / creates,
        "written": wrote / creates,
        "bytes": os.path.getsize(os.path.join(data, "vesta.db")) / creates,
    }
    if tables:
        result["tables"] = {k: v / creates for k, v in table_bytes(data).items()}
    shutil.rmtree(data)
    return result


def fmt(xs):
    f = (lambda x: "{:,.0f}".format(x)) if statistics.median(xs) >= 100 else (lambda x: "{:.1f}".format(x))
    return "%s (%s–%s)" % (f(statistics.median(xs)), f(min(xs)), f(max(xs)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="the baseline binary")
    ap.add_argument("--b", required=True, help="the binary measured against it")
    ap.add_argument("--body", help="a resource JSON file to create (default: server_bench's Observation)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--tables", action="store_true", help="bytes per table and index (dbstat)")
    ap.add_argument("--updates", action="store_true", help="measure updates instead of creates")
    args = ap.parse_args()
    body = OBSERVATION
    if args.body:
        with open(args.body) as f:
            body = json.load(f)
        body.pop("id", None)
        body.pop("meta", None)
    if body.get("resourceType") != "Observation":
        raise SystemExit("the body must be an Observation")
    runs = {"a": [], "b": []}
    with lib.work_dir("vesta-write-cost-") as work:
        lua = os.path.join(work, "create.lua")
        with open(lua, "w") as f:
            if args.updates:
                f.write(UPDATE_LUA % (json.dumps(dict(body, id="__ID__"), separators=(",", ":")),
                                      UPDATED - 1))
            else:
                f.write(CREATE_LUA % json.dumps(body, separators=(",", ":")))
        for i in range(args.repeats + 1):
            for key, vesta in (("a", args.a), ("b", args.b)):
                quiesce()
                r = one_run(os.path.abspath(vesta), work, "%s%d" % (key, i), lua, args.connections,
                            args.duration, args.tables, args.updates, body)
                if i > 0:  # the first pair warms up
                    runs[key].append(r)
    size = len(json.dumps(body, separators=(",", ":")))
    print("%d-byte Observation, %s, %d connections, %d s runs, %d alternating repeats, "
          "median (min–max)\n" % (size, "updates" if args.updates else "creates", args.connections,
                                   args.duration, args.repeats))
    print("| per %s | A | B | B − A |" % ("update" if args.updates else "create"))
    print("| --- | --- | --- | --- |")
    for key, label in (("writer_us", "writer thread CPU, µs"), ("server_us", "server CPU, µs"),
                       ("written", "bytes written (log, checkpoints, responses)"),
                       ("bytes", "vesta.db bytes"), ("creates_per_s", "durable writes/s")):
        a = [r[key] for r in runs["a"]]
        b = [r[key] for r in runs["b"]]
        print("| %s | %s | %s | %+.1f |" % (label, fmt(a), fmt(b), statistics.median(b) - statistics.median(a)))
    if args.tables:
        print("\nB's bytes per create by table and index (dbstat, median):\n")
        names = sorted(runs["b"][0]["tables"])
        for n in names:
            vals = [r["tables"].get(n, 0) for r in runs["b"]]
            if statistics.median(vals) >= 1:
                print("- %s: %.0f" % (n, statistics.median(vals)))


if __name__ == "__main__":
    main()
