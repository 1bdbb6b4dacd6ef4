#!/usr/bin/env python3
"""GET /[type]/[id] against two SQLite stores side by side: the same binary serving each store
from its own server, runs alternated, so that the only difference is the stores' layout (e.g.
plain JSON bodies against compressed ones, docs/storage.md "Compressed bodies").

    bench/store/read_bench.py --vesta build/vesta --store plain=DIR_A --store zstd=DIR_B \
        [--type Observation] [--ids 2000] [--repeats 3] [--duration 4] [--read-cache-mb 0]

Each store is copied first (a server migrates and checkpoints it). Ids: --ids random ids of
--type from the first store (the same ids are asked of both). Prints req/s, p50 and p99 per store
(median and spread of the repeats) and the ratio of each store's rate to the first's."""
import argparse
import os
import random
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vesta", required=True)
    ap.add_argument("--store", action="append", required=True, help="LABEL=DATA_DIR")
    ap.add_argument("--type", default="Observation")
    ap.add_argument("--ids", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--read-cache-mb", type=int, default=64)
    args = ap.parse_args()
    stores = [s.split("=", 1) for s in args.store]

    work = tempfile.mkdtemp(prefix="vesta-read-bench-")
    try:
        first = os.path.join(stores[0][1], "vesta.db")
        with sqlite3.connect("file:%s?mode=ro" % first, uri=True) as db:
            ids = [r[0] for r in db.execute(
                "SELECT id FROM resource_current WHERE type = ? ORDER BY random() LIMIT ?",
                (args.type, args.ids))]
        random.shuffle(ids)
        script = os.path.join(work, "ids.lua")
        with open(script, "w") as f:
            f.write("local ids = {%s}\n" % ",".join('"%s"' % i for i in ids))
            f.write("request = function()\n  return wrk.format(\"GET\", \"/%s/\" .. "
                    "ids[math.random(#ids)])\nend\n" % args.type)
        servers = []
        for label, src in stores:
            dst = os.path.join(work, label)
            shutil.copytree(src, dst)
            servers.append(lib.Server(args.vesta, dst,
                                      extra=["--read-cache-mb", str(args.read_cache_mb)]))
        try:
            for s in servers:  # warm-up, untimed
                lib.wrk(s.url("/"), 2, args.connections, script=script, latency=False)
            runs = {label: [] for label, _ in stores}
            for _ in range(args.repeats):
                for (label, _), s in zip(stores, servers):
                    runs[label].append(lib.wrk(s.url("/"), args.duration, args.connections,
                                               script=script))
        finally:
            for s in servers:
                s.stop()
        base = [r["rps"] for r in runs[stores[0][0]]]
        print("| store | req/s | p50 ms | p99 ms | / %s |" % stores[0][0])
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, _ in stores:
            rps = [r["rps"] for r in runs[label]]
            print("| %s | %s | %.2f | %.2f | %s |" % (
                label, lib.fmt_spread(rps), lib.median([r["p50"] for r in runs[label]]),
                lib.median([r["p99"] for r in runs[label]]),
                lib.fmt_ratio([a / b for a, b in zip(rps, base)])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
