#!/usr/bin/env python3
"""The PostgreSQL store against the SQLite store and against PostgreSQL's own floor, side by
side in one run on the same generated population.

Follows ../../../shared/design/BENCHMARKS.md: every figure has its baselines from the same run,
runs alternate (SQLite, PostgreSQL store, PostgreSQL's floor, ...) after one untimed warm-up,
the median and the min-max spread of the repeats are reported, wrk and pgbench run on loopback /
a unix socket with a fixed duration and connection count.

One throw-away PostgreSQL cluster per run (bench/search's `Postgres`: initdb in a temp dir,
trust authentication, unix socket only, stopped and removed in a `finally`; as root, initdb and
postgres run as the `postgres` account), one population (`vesta generate --seed 7`), and:

  import     `vesta import` of the population into a fresh SQLite store (--data-dir) and into a
             fresh PostgreSQL database (--store postgresql://..., the default --connections and
             --connections 1), alternated: seconds, resources/s, PostgreSQL / SQLite.
  creates    durable POST /Observation (server_bench's Observation, ~1 KB) over HTTP with 1 and 32
             wrk connections, to a server on a fresh SQLite store and to one on a fresh PostgreSQL
             database; PostgreSQL's floor with pgbench at 1 and 32 clients, synchronous_commit
             on: (floor) one INSERT of the same JSON bytes into Vesta's own `resource` table (the
             schema `vesta import` creates, all its indexes) per transaction; (replay) a create's
             row writes without its index rows: one statement inserting the version and its
             resource_current row. Targets: PostgreSQL store creates@32 >= 0.7 x floor@32.
  reads      GET /Type/id of random ids of the population (wrk, --connections): the server on
             the imported PostgreSQL database against the one on the imported SQLite store.
             Target: >= 0.5 x SQLite.
  searches   the ten searches of bench/search (its queries(), pg_queries(), check_same()) on
             both servers and as hand-written SQL over bench/search's JSONB + GIN table
             (pgbench -M prepared): the servers' results are checked against each other and
             against the SQL. Target: PostgreSQL store >= 1.0 x the hand-written query.
  profile    with pg_stat_statements (when the extension is installed; loaded for the whole run
             with tracking off, switched on only here): the statements, round trips and
             PostgreSQL execution time per create (32 connections), per read and per search.

Usage: bench/postgres/postgres_bench.py --vesta build/vesta [--patients 200] [--repeats 3]
           [--duration 2] [--connections 32] [--parts import,creates,reads,searches,profile]
           [--pg-bindir DIR] [--workdir DIR]
Prints a Markdown section on stdout; progress goes to stderr.
"""
import argparse
import glob
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "search"))
sys.path.insert(0, os.path.join(HERE, "..", "server"))
import lib  # noqa: E402
import search_bench as sb  # noqa: E402
from server_bench import CREATE_LUA, OBSERVATION  # noqa: E402
from server_bench import quiesce as flush_writeback  # noqa: E402

log = sb.log
PARTS = ("import", "creates", "reads", "searches", "profile")
READ_SAMPLE = 2000  # ids the read script picks from


# ---- small helpers ----------------------------------------------------------------------------

fmt = lib.fmt_number
ms = lib.fmt_spread
ratio = lib.fmt_ratio


def git(*a):
    return subprocess.run(["git", *a], capture_output=True, text=True,
                          cwd=HERE).stdout.strip()


def tree_state(vesta):
    """What the binary is built from, as far as the tree tells: the commit, whether the sources
    differ from it, and whether any source file is newer than the binary."""
    root = git("rev-parse", "--show-toplevel")
    dirty = git("status", "--porcelain", "--", "src", "CMakeLists.txt")
    built = os.path.getmtime(vesta)
    newer = any(os.path.getmtime(os.path.join(d, f)) > built
                for d, _, fs in os.walk(os.path.join(root, "src")) for f in fs)
    return "commit %s%s, binary built %s UTC%s" % (
        git("rev-parse", "--short", "HEAD"), " + uncommitted changes in src/" if dirty else "",
        time.strftime("%H:%M", time.gmtime(built)),
        " (src/ has changed since)" if newer else "")


class Cpu:
    """CPU time between start() and stop(): of the Vesta server (its /proc stat), of PostgreSQL
    (every live postgres process, plus the postmaster's reaped children: the backends of
    connections that have closed, pgbench's) and of the load generator (this process's reaped
    children: wrk or pgbench, run between the two). stop() gives ms per request."""
    HZ = os.sysconf("SC_CLK_TCK")

    def __init__(self, pg, server_pid=None):
        self.pg, self.server_pid = pg, server_pid

    def sample(self):
        try:
            postmaster = int(open(os.path.join(self.pg.data, "postmaster.pid")).readline())
        except (OSError, ValueError):
            postmaster = -1
        out = {"vesta": 0.0, "postgres": 0.0}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    head, rest = f.read().rsplit(")", 1)
            except OSError:
                continue
            fields = rest.split()
            ticks = int(fields[11]) + int(fields[12])
            if int(d) == self.server_pid:
                out["vesta"] += ticks
            elif head.split("(", 1)[1] == "postgres":
                out["postgres"] += ticks
                if int(d) == postmaster:
                    out["postgres"] += int(fields[13]) + int(fields[14])
        t = os.times()
        out = {k: v * 1000.0 / self.HZ for k, v in out.items()}
        out["client"] = (t.children_user + t.children_system) * 1000.0
        return out

    def start(self):
        self.t0 = self.sample()

    def stop(self, requests):
        t1 = self.sample()
        n = max(requests, 1)
        return {k: (t1[k] - self.t0[k]) / n for k in t1}


def uri(pg, db):
    return "postgresql://%s@/%s?host=%s&port=%d" % (sb.PG_USER, db, pg.base, sb.PG_PORT)


def fresh_db(pg, name):
    pg.psql("DROP DATABASE IF EXISTS %s" % name, "CREATE DATABASE %s" % name)


def drop_db(pg, name):
    pg.psql("DROP DATABASE IF EXISTS %s" % name)


def pg_quiesce(pg, limit_s=120):
    """Waits until no client backend of the cluster is running a statement (a request a wrk run
    left in flight on a PostgreSQL-backed server goes on in its backend). Bounded."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        busy = int(pg.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
                           "backend_type = 'client backend' AND pid <> pg_backend_pid()").strip())
        if busy == 0:
            return
        time.sleep(0.2)
    log("PostgreSQL still busy after %d s" % limit_s)


def wrk_cpu(pg, server, url, duration, connections, script=None):
    """lib.wrk with the CPU per request of the server, PostgreSQL and wrk (r["cpu"])."""
    cpu = Cpu(pg, server.proc.pid)
    cpu.start()
    r = lib.wrk(url, duration, connections, script)
    r["cpu"] = cpu.stop(wrk_requests(r))
    return r


def pgbench_cpu(pg, sql, connections, duration, tag, **kw):
    """pg.pgbench as a dict (rps, p50, p99) with the CPU per transaction (cpu)."""
    cpu = Cpu(pg)
    cpu.start()
    q = pg.pgbench(sql, connections, duration, tag, **kw)
    return dict(rps=q[0], p50=q[2], p99=q[3], cpu=cpu.stop(q[0] * duration))


def settle(server, pg):
    sb.quiesce(server.proc)
    pg_quiesce(pg)


def run_import(vesta, target, pop):
    """`vesta import TARGET... POP`: seconds; raises unless every resource was imported."""
    t0 = time.monotonic()
    r = subprocess.run([vesta, "import", *target, pop], capture_output=True, text=True,
                       timeout=3600)
    s = time.monotonic() - t0
    if r.returncode != 0 or " 0 rejected" not in r.stdout:
        raise RuntimeError("vesta import %s: %s" % (" ".join(target[:1]),
                                                     (r.stdout + r.stderr)[-1000:]))
    return s


def request(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=body,
                                 headers={"Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


def read_paths(pop, n):
    """`n` random /Type/id paths of the population (fixed seed)."""
    paths = []
    for f in sorted(glob.glob(os.path.join(pop, "*.ndjson"))):
        rtype = os.path.basename(f)[:-len(".ndjson")]
        with open(f) as fh:
            for line in fh:
                paths.append("/%s/%s" % (rtype, json.loads(line)["id"]))
    return random.Random(7).sample(paths, min(n, len(paths)))


READ_LUA = """
local paths = {%s}
math.randomseed(%d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def page_ids(bundle):
    return [e["resource"]["id"] for e in bundle.get("entry", [])
            if e.get("search", {}).get("mode", "match") == "match"]


def compare_servers(a, b, path):
    """None when the two servers give the same matches (the count, and the page: in order when
    sorted, as a set when every match is on it), else why not."""
    ta = sb.get_json(a + sb.vesta_count_path(path))["total"]
    tb = sb.get_json(b + sb.vesta_count_path(path))["total"]
    if ta != tb:
        return "SQLite store matches %d, PostgreSQL store %d" % (ta, tb)
    pa, pb = page_ids(sb.get_json(a + path)), page_ids(sb.get_json(b + path))
    if len(pa) != len(pb):
        return "page of %d on SQLite, %d on PostgreSQL" % (len(pa), len(pb))
    if "_sort=" in path and pa != pb:
        return "the sorted pages differ"
    if len(pa) == ta and set(pa) != set(pb):
        return "the matches differ (same count)"
    return None


# ---- the floor's pgbench scripts --------------------------------------------------------------

def floor_scripts(json_bytes):
    """pgbench scripts for the floor: one INSERT of the stored bytes into Vesta's `resource`
    table per transaction, and a create's row writes without its index rows (one statement
    inserting the version and its resource_current row, as the store's create statement does).
    Ids: the client's id and a random 62-bit number (pgbench has no per-client counter)."""
    hexed = json_bytes.hex()
    now = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"
    single = ("\\set r random(1, 4611686018427387903)\n"
              "INSERT INTO resource (type, id, version, last_updated, deleted, json) VALUES "
              "('Observation', 'f' || :client_id || '-' || :r, 1, %s, 0, '\\x%s'::bytea) "
              "RETURNING seq;\n" % (now, hexed))
    replay = ("\\set r random(1, 4611686018427387903)\n"
              "WITH ins AS (INSERT INTO resource (type, id, version, last_updated, deleted, json)"
              " VALUES ('Observation', 'r' || :client_id || '-' || :r, 1, %s, 0, '\\x%s'::bytea)"
              " RETURNING seq) INSERT INTO resource_current (type, id, version, seq)"
              " SELECT 'Observation', 'r' || :client_id || '-' || :r, 1, seq FROM ins;\n"
              % (now, hexed))
    return single, replay


# ---- pg_stat_statements -----------------------------------------------------------------------

class Statements:
    """pg_stat_statements, loaded at start with tracking off; on() / off() switch it for the
    profile only, so that the measured runs do not pay for it."""

    def __init__(self, pg):
        self.pg = pg
        pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def track(self, on):
        self.pg.psql("ALTER SYSTEM SET pg_stat_statements.track = '%s'" % ("top" if on else "none"),
                     "ALTER SYSTEM SET pg_stat_statements.track_planning = %s" % (
                         "on" if on else "off"),
                     "SELECT pg_reload_conf()")
        time.sleep(0.5)

    def reset(self):
        self.pg.psql("SELECT pg_stat_statements_reset()")

    def read(self, db):
        """[(calls, total ms, mean ms, query, total planning ms)] of database `db`, most calls
        first. Execution and planning are separate in pg_stat_statements."""
        out = self.pg.psql(
            "SELECT s.calls, round(s.total_exec_time::numeric, 3), "
            "round(s.mean_exec_time::numeric, 4), round(s.total_plan_time::numeric, 3), "
            "regexp_replace(s.query, '\\s+', ' ', 'g') "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = '%s' ORDER BY s.calls DESC, s.total_exec_time DESC" % db)
        rows = []
        for line in out.splitlines():
            parts = line.split("|", 4)
            if len(parts) == 5:
                rows.append((int(parts[0]), float(parts[1]), float(parts[2]), parts[4],
                             float(parts[3])))
        return rows


def cpu_cell(cpus):
    """Median CPU ms per request: `Vesta + PostgreSQL + load generator = total`."""
    med = {k: statistics.median(c[k] for c in cpus) for k in ("vesta", "postgres", "client")}
    return "%.2f + %.2f + %.2f = %.2f" % (med["vesta"], med["postgres"], med["client"],
                                           sum(med.values()))


def short(q, n=110):
    q = q.replace("|", "\\|")
    return q if len(q) <= n else q[:n - 1] + "…"


# ---- the run ----------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=2, help="seconds per wrk / pgbench run")
    ap.add_argument("--connections", type=int, default=32, help="for reads and searches")
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--pg-bindir", default=None)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    vesta = os.path.abspath(args.vesta)
    parts = set(args.parts.split(","))
    unknown = parts - set(PARTS)
    if unknown:
        ap.error("unknown parts: %s" % ", ".join(sorted(unknown)))
    bindir, why = sb.find_pg_bindir(args.pg_bindir)
    if not bindir:
        raise SystemExit("bench/postgres: " + why)
    acct = sb.server_account()
    state = tree_state(vesta)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    res = {}
    with lib.work_dir("vesta-pg-bench-", keep=args.workdir) as work:
        if acct is not None and not args.workdir:
            os.chmod(work, 0o711)
        pg_dir = sb.pg_dir_for(work, 0, acct)
        pg = sb.Postgres(bindir, pg_dir, acct)
        try:
            run(args, vesta, parts, work, pg, res)
        finally:
            pg.stop()
            shutil.rmtree(pg_dir, ignore_errors=True)
    report(args, parts, res, state, started)


def run(args, vesta, parts, work, pg, res):
    pop = os.path.join(work, "pop")
    log("generate %d patients" % args.patients)
    subprocess.run([vesta, "generate", "--patients", str(args.patients), "--seed", "7",
                    "--format", "ndjson", "--out", pop, "--quiet"], check=True, timeout=3600)
    files = [f for f in glob.glob(os.path.join(pop, "*.ndjson"))]
    res["resources"] = sum(sum(1 for _ in open(f)) for f in files)
    res["ndjson_mb"] = sum(os.path.getsize(f) for f in files) / 1e6
    # The JSONB table and Vesta's PostgreSQL database both stay in shared buffers.
    shared_mb = max(256, -(-8 * sum(os.path.getsize(f) for f in files) // (128 << 20)) * 128)
    have_pgss = bool(glob.glob(os.path.join(
        os.path.dirname(bindir_share(pg.bindir)), "extension", "pg_stat_statements.control")))
    # Tracking is switched with ALTER SYSTEM (a -c on the command line would override it).
    extra = [("shared_preload_libraries", "pg_stat_statements")] if have_pgss else []
    log("PostgreSQL: initdb and start (shared_buffers %d MB)" % shared_mb)
    pg.start(shared_mb, extra)
    res["pg_version"] = pg.version
    res["pg_settings"] = [kv for kv in pg.settings
                          if kv[0] not in ("unix_socket_directories", "port")]
    stmts = Statements(pg) if have_pgss else None
    if stmts:
        stmts.track(False)
    res["pgss"] = have_pgss
    empty = os.path.join(work, "empty")
    os.makedirs(empty)
    # serve's --data-dir: with --store it holds only the server's own files (Bulk Data exports).
    dummy = os.path.join(work, "server-files")
    os.makedirs(dummy)

    # -- import (the untimed warm-up imports are the stores the reads and searches use) --
    sqlite_dir = os.path.join(work, "sqlite")
    log("import (warm-up: the stores served below)")
    fresh_db(pg, "vesta")
    run_import(vesta, ["--data-dir", sqlite_dir], pop)
    run_import(vesta, ["--store", uri(pg, "vesta")], pop)
    if "import" in parts:
        variants = [("sqlite", lambda k: ["--data-dir", os.path.join(work, "imp%d" % k)]),
                    ("pg", lambda k: ["--store", uri(pg, "imp%d" % k)]),
                    ("pg1", lambda k: ["--store", uri(pg, "imp%d" % k), "--connections", "1"])]
        times = {name: [] for name, _ in variants}
        for k in range(args.repeats):
            for name, target in variants:
                shutil.rmtree(os.path.join(work, "imp%d" % k), ignore_errors=True)
                fresh_db(pg, "imp%d" % k)
                flush_writeback()
                times[name].append(run_import(vesta, target(k), pop))
                log("  import %-6s %.2f s" % (name, times[name][-1]))
                shutil.rmtree(os.path.join(work, "imp%d" % k), ignore_errors=True)
                drop_db(pg, "imp%d" % k)
        res["import"] = times

    # -- reads and searches, on the imported stores --
    if parts & {"reads", "searches", "profile"}:
        with lib.Server(vesta, sqlite_dir) as lite, \
                lib.Server(vesta, dummy, ("--store", uri(pg, "vesta"))) as pgs:
            if "reads" in parts or "profile" in parts:
                paths = read_paths(pop, READ_SAMPLE)
                lua = os.path.join(work, "read.lua")
                with open(lua, "w") as f:
                    f.write(READ_LUA % (",".join('"%s"' % p for p in paths), 7))
                for p in paths[:50]:  # every path answers on both
                    request("GET", lite.url(p))
                    request("GET", pgs.url(p))
            if "reads" in parts:
                log("reads")
                lib.wrk(lite.url("/"), 1, args.connections, lua)
                lib.wrk(pgs.url("/"), 1, args.connections, lua)
                reads = {"sqlite": [], "pg": []}
                for _ in range(args.repeats):
                    reads["sqlite"].append(wrk_cpu(pg, lite, lite.url("/"), args.duration,
                                                   args.connections, lua))
                    settle(lite, pg)
                    reads["pg"].append(wrk_cpu(pg, pgs, pgs.url("/"), args.duration,
                                               args.connections, lua))
                    settle(pgs, pg)
                res["reads"] = reads
                log("  SQLite %.0f/s, PostgreSQL %.0f/s" % (
                    statistics.median(r["rps"] for r in reads["sqlite"]),
                    statistics.median(r["rps"] for r in reads["pg"])))
            if "searches" in parts or "profile" in parts:
                log("PostgreSQL: the JSONB + GIN table (bench/search)")
                res["jsonb_load"] = pg.load(pop)
                sample = sb.pick_sample(pop)
                clinical, _ = sb.queries(*sample)
                sql_clinical, _ = sb.pg_queries(*sample)
            if "searches" in parts:
                res["searches"] = searches(args, pg, lite, pgs, clinical, sql_clinical)
            if "profile" in parts and stmts:
                res["profile_reads"] = profile_reads(args, pg, stmts, pgs, lua)
                res["profile_searches"] = profile_searches(pg, stmts, pgs, clinical)

    # -- creates, on fresh stores --
    if "creates" in parts or ("profile" in parts and stmts):
        res["creates"] = creates(args, vesta, parts, work, pg, stmts, empty, dummy)


def bindir_share(bindir):
    """The server's share/extension directory's parent: Debian keeps it in
    /usr/share/postgresql/MAJOR, a source build in BINDIR/../share(/postgresql)."""
    out = subprocess.run([os.path.join(bindir, "pg_config"), "--sharedir"], capture_output=True,
                         text=True)
    if out.returncode == 0 and out.stdout.strip():
        return os.path.join(out.stdout.strip(), "x")
    major = subprocess.run([os.path.join(bindir, "postgres"), "--version"], capture_output=True,
                           text=True).stdout.split()[-1].split(".")[0]
    return os.path.join("/usr/share/postgresql", major, "x")


def searches(args, pg, lite, pgs, clinical, sql_clinical):
    rows = []
    for i, ((name, path), spec) in enumerate(zip(clinical, sql_clinical)):
        sb.get_json(lite.url(path))
        sb.get_json(pgs.url(path))
        between = compare_servers(lite.base, pgs.base, path)
        differ = sb.check_same(pg, pgs.base, path, spec, sb.get_json(pgs.url(path)))
        for what, d in (("the two stores", between), ("the JSONB SQL", differ)):
            if d:
                log("WARNING: %s: %s disagree: %s" % (name, what, d))
        pg.psql(sb.pg_sql(spec))  # warm-up
        lib.wrk(lite.url(path), 1, args.connections)
        settle(lite, pg)
        lib.wrk(pgs.url(path), 1, args.connections)
        settle(pgs, pg)
        a, b, c, b50, b99, vs_lite, vs_sql, cpus = [], [], [], [], [], [], [], []
        for _ in range(args.repeats):
            r = wrk_cpu(pg, lite, lite.url(path), args.duration, args.connections)
            settle(lite, pg)
            a.append(r["rps"])
            cpu = {"sqlite": r["cpu"]}
            r = wrk_cpu(pg, pgs, pgs.url(path), args.duration, args.connections)
            settle(pgs, pg)
            b.append(r["rps"])
            b50.append(r["p50"])
            b99.append(r["p99"])
            cpu["pg"] = r["cpu"]
            q = pgbench_cpu(pg, sb.pg_sql(spec), args.connections, args.duration, "q%d" % i)
            c.append(q["rps"])
            cpu["sql"] = q["cpu"]
            cpus.append(cpu)
            vs_lite.append(b[-1] / max(a[-1], 1e-9))
            vs_sql.append(b[-1] / max(q["rps"], 1e-9))
        rows.append(dict(name=name, path=path, between=between, differ=differ, lite=a, pg=b,
                         sql=c, p50=statistics.median(b50), p99=statistics.median(b99),
                         vs_lite=vs_lite, vs_sql=vs_sql, cpu=cpus,
                         matches=len(page_ids(sb.get_json(pgs.url(path))))))
        log("  %-45s SQLite %7.0f  PG store %7.0f  JSONB %7.0f /s" % (
            name, statistics.median(a), statistics.median(b), statistics.median(c)))
    return rows


def creates(args, vesta, parts, work, pg, stmts, empty, dummy):
    body = json.dumps(OBSERVATION, separators=(",", ":"))
    lua = os.path.join(work, "create.lua")
    with open(lua, "w") as f:
        f.write(CREATE_LUA % body)
    fresh_db(pg, "vesta_w")
    fresh_db(pg, "floor")
    run_import(vesta, ["--store", uri(pg, "floor")], empty)  # Vesta's schema, nothing in it
    out = {}
    with lib.Server(vesta, os.path.join(work, "sqlite_w")) as lite, \
            lib.Server(vesta, dummy, ("--store", uri(pg, "vesta_w"))) as pgs:
        for s in (lite, pgs):  # the Observation's references must resolve
            for rtype in ("Patient", "Practitioner"):
                request("PUT", s.url("/%s/example" % rtype),
                        json.dumps({"resourceType": rtype, "id": "example"}).encode())
        created = json.loads(request("POST", pgs.url("/Observation"), body.encode()))
        stored = request("GET", pgs.url("/Observation/" + created["id"]))
        out["stored_bytes"] = len(stored)
        single, replay = floor_scripts(stored)
        url_l, url_p = lite.url("/Observation"), pgs.url("/Observation")
        if "creates" in parts:
            log("creates")
            for c in (1, 32):  # warm-up
                lib.wrk(url_l, 1, c, lua)
                lib.wrk(url_p, 1, c, lua)
                settle(pgs, pg)
                pg.pgbench(None, c, 1, "floor", db="floor", script=single)
                pg.pgbench(None, c, 1, "replay", db="floor", script=replay)
            runs = {(k, c): [] for k in ("sqlite", "pg", "floor", "replay") for c in (1, 32)}
            for _ in range(args.repeats):
                for c in (1, 32):
                    flush_writeback()
                    runs["sqlite", c].append(wrk_cpu(pg, lite, url_l, args.duration, c, lua))
                    sb.quiesce(lite.proc)
                    flush_writeback()
                    runs["pg", c].append(wrk_cpu(pg, pgs, url_p, args.duration, c, lua))
                    settle(pgs, pg)
                    flush_writeback()
                    runs["floor", c].append(pgbench_cpu(pg, None, c, args.duration, "floor",
                                                        db="floor", script=single))
                    flush_writeback()
                    runs["replay", c].append(pgbench_cpu(pg, None, c, args.duration, "replay",
                                                         db="floor", script=replay))
                    log("  %2d clients: SQLite %6.0f  PG store %6.0f  floor %6.0f  replay %6.0f"
                        % (c, runs["sqlite", c][-1]["rps"], runs["pg", c][-1]["rps"],
                           runs["floor", c][-1]["rps"], runs["replay", c][-1]["rps"]))
            out["runs"] = runs
        if "profile" in parts and stmts:
            log("profile: creates")
            out["profile"] = {}
            for c in (1, 32):
                settle(pgs, pg)
                stmts.track(True)
                stmts.reset()
                before = table_inserts(pg, "vesta_w")
                r = lib.wrk(url_p, args.duration, c, lua)
                settle(pgs, pg)
                stmts.track(False)
                time.sleep(1.5)  # the backends report their table counters at most once a second
                after = table_inserts(pg, "vesta_w")
                out["profile"][c] = dict(rps=r["rps"], requests=wrk_requests(r),
                                         rows=stmts.read("vesta_w"),
                                         tables=[(t, after[t][0] - before.get(t, (0,))[0],
                                                  after[t][1]) for t in sorted(after)])
    return out


def table_inserts(pg, db):
    """{table: (rows inserted so far, its number of indexes)} of database `db`."""
    out = {}
    for line in pg.psql("SELECT relname, n_tup_ins, (SELECT count(*) FROM pg_index i WHERE "
                        "i.indrelid = s.relid) FROM pg_stat_user_tables s", db=db).splitlines():
        parts = line.split("|")
        if len(parts) == 3:
            out[parts[0]] = (int(parts[1]), int(parts[2]))
    return out


def profile_reads(args, pg, stmts, pgs, lua):
    log("profile: reads")
    settle(pgs, pg)
    stmts.track(True)
    stmts.reset()
    r = lib.wrk(pgs.url("/"), args.duration, args.connections, lua)
    settle(pgs, pg)
    stmts.track(False)
    return dict(rps=r["rps"], requests=wrk_requests(r), rows=stmts.read("vesta"))


def wrk_requests(r):
    m = re.search(r"(\d+) requests in", r["output"])
    return int(m.group(1)) if m else 0


def profile_searches(pg, stmts, pgs, clinical, n=30):
    """Each search `n` times from one client: wall ms per request, and the statements and
    PostgreSQL execution ms per request."""
    log("profile: searches")
    out = []
    settle(pgs, pg)
    stmts.track(True)
    for name, path in clinical:
        sb.get_json(pgs.url(path))
        stmts.reset()
        t0 = time.monotonic()
        for _ in range(n):
            sb.get_json(pgs.url(path))
        wall = (time.monotonic() - t0) * 1000 / n
        rows = stmts.read("vesta")
        out.append(dict(name=name, wall_ms=wall, n=n, rows=rows))
    stmts.track(False)
    return out


# ---- the report -------------------------------------------------------------------------------

def report(args, parts, res, state, started):
    p = print
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    p("Measured %s, %d cores (%s), %s GiB memory (`free -g` total), load average %s at the end; "
      "vesta built from %s. Population: `vesta generate --patients %d --seed 7`, %d resources, "
      "%.0f MB of NDJSON. %s in a throw-away cluster (initdb, trust, unix socket only) with the "
      "default durability settings (fsync, synchronous_commit, full_page_writes) and %s. wrk -t2 "
      "/ pgbench -j2 (-j1 for 1 client), %d s runs, %d alternating repeats after an untimed "
      "warm-up, median (min–max)." % (
          started, os.cpu_count(), cpu or "cpu unknown", mem.split()[1],
          " ".join(open("/proc/loadavg").read().split()[:3]), state, args.patients,
          res["resources"], res["ndjson_mb"], res["pg_version"],
          ", ".join("`%s=%s`" % kv for kv in res["pg_settings"]), args.duration, args.repeats))
    p("")
    p("Command: `bench/postgres/postgres_bench.py --vesta build/vesta --patients %d --repeats %d "
      "--duration %d --connections %d%s`" % (
          args.patients, args.repeats, args.duration, args.connections,
          "" if args.parts == ",".join(PARTS) else " --parts " + args.parts))
    targets = []

    if "import" in res:
        t = res["import"]
        n = res["resources"]
        p("\n**Import** (`vesta import` of the population into a fresh store, alternated):\n")
        p("| store | seconds | resources/s | / SQLite (rate) |")
        p("| --- | ---: | ---: | ---: |")
        for key, label in (("sqlite", "SQLite `--data-dir` (durable batches)"),
                           ("pg", "PostgreSQL `--store`, `--connections 4` (default)"),
                           ("pg1", "PostgreSQL `--store`, `--connections 1`")):
            rates = [n / s for s in t[key]]
            rel = [t["sqlite"][k] / s for k, s in enumerate(t[key])]
            p("| %s | %.2f (%.2f–%.2f) | %s | %s |" % (
                label, *lib.median_spread(t[key]), ms(rates),
                "1" if key == "sqlite" else ratio(rel)))

    cr = res.get("creates", {})
    if "runs" in cr:
        runs = cr["runs"]
        p("\n**Durable creates** (POST /Observation, %d-byte stored JSON, wrk; fresh stores). "
          "Floor: pgbench on the same cluster, synchronous_commit on, into "
          "Vesta's own `resource` table (all its indexes); *floor* = one `INSERT INTO resource "
          "... RETURNING seq` of the same JSON bytes per transaction, *replay* = a create's "
          "row writes without its index rows (one statement: `WITH ins AS (INSERT INTO "
          "resource ... RETURNING seq) INSERT INTO resource_current ...`, as the store's create "
          "statement writes them before its index rows).\n" % cr["stored_bytes"])
        p("| clients | SQLite store | PostgreSQL store | pgbench floor | pgbench replay | "
          "PG / SQLite | PG / floor | PG / replay |")
        p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for c in (1, 32):
            rl = [x["rps"] for x in runs["sqlite", c]]
            rp = [x["rps"] for x in runs["pg", c]]
            rf = [x["rps"] for x in runs["floor", c]]
            rr = [x["rps"] for x in runs["replay", c]]
            p("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
                c, ms(rl), ms(rp), ms(rf), ms(rr), ratio([a / b for a, b in zip(rp, rl)]),
                ratio([a / b for a, b in zip(rp, rf)]), ratio([a / b for a, b in zip(rp, rr)])))
            if c == 32:
                targets.append(("durable creates, 32 clients: PostgreSQL store / pgbench floor",
                                0.7, [a / b for a, b in zip(rp, rf)]))
        p("\nCPU ms per create (median; Vesta server + PostgreSQL processes + wrk or pgbench; "
          "/proc): 2 cores give at most 2,000 ms of CPU a second.\n")
        p("| clients | SQLite store | PostgreSQL store | pgbench floor | pgbench replay |")
        p("| ---: | ---: | ---: | ---: | ---: |")
        for c in (1, 32):
            p("| %d | %s |" % (c, " | ".join(cpu_cell([x["cpu"] for x in runs[k, c]])
                                            for k in ("sqlite", "pg", "floor", "replay"))))
        p("\np50 / p99 latency, ms:\n")
        p("| clients | SQLite store | PostgreSQL store | pgbench floor | pgbench replay |")
        p("| ---: | ---: | ---: | ---: | ---: |")
        for c in (1, 32):
            p("| %d | %s |" % (c, " | ".join(
                "%.2f / %.2f" % (statistics.median(x["p50"] for x in runs[k, c]),
                                 statistics.median(x["p99"] for x in runs[k, c]))
                for k in ("sqlite", "pg", "floor", "replay"))))

    if "reads" in res:
        r = res["reads"]
        rl = [x["rps"] for x in r["sqlite"]]
        rp = [x["rps"] for x in r["pg"]]
        rel = [a / b for a, b in zip(rp, rl)]
        targets.append(("reads: PostgreSQL store / SQLite store", 0.5, rel))
        p("\n**Reads** (GET /Type/id, random ids among %d of the population, %d connections, "
          "the imported stores):\n" % (READ_SAMPLE, args.connections))
        p("| store | req/s | p50 ms | p99 ms | CPU ms per read: Vesta + PostgreSQL + wrk | "
          "/ SQLite |")
        p("| --- | ---: | ---: | ---: | ---: | ---: |")
        for key, label, rates in (("sqlite", "SQLite", rl), ("pg", "PostgreSQL", rp)):
            p("| %s | %s | %.2f | %.2f | %s | %s |" % (
                label, ms(rates), statistics.median(x["p50"] for x in r[key]),
                statistics.median(x["p99"] for x in r[key]), cpu_cell([x["cpu"] for x in r[key]]),
                "1" if key == "sqlite" else
                ratio(rel)))

    if "searches" in res:
        p("\n**Searches** (bench/search's ten, %d connections, the imported stores; JSONB: "
          "bench/search's table `resources(id, type, body jsonb)` with `GIN (body "
          "jsonb_path_ops)` and the hand-written SQL of `pg_queries()`, pgbench -M prepared, "
          "in the same cluster). Ratios are of each round's paired runs.\n" % args.connections)
        p("| search | page | SQLite store req/s | PostgreSQL store req/s | PG store p50 / p99 ms"
          " | JSONB SQL q/s | PG store / SQLite | PG store / JSONB |")
        p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in res["searches"]:
            note = ""
            if row["between"]:
                note += " (stores disagree: %s)" % row["between"]
            if row["differ"]:
                note += " (JSONB SQL disagrees: %s)" % row["differ"]
            p("| %s%s | %d | %s | %s | %.1f / %.1f | %s | %s | %s |" % (
                row["name"], note, row["matches"], ms(row["lite"]), ms(row["pg"]), row["p50"],
                row["p99"], ms(row["sql"]), ratio(row["vs_lite"]),
                "n/a" if row["differ"] else ratio(row["vs_sql"])))
            if not row["differ"]:
                targets.append(("search: %s: PostgreSQL store / JSONB SQL" % row["name"], 1.0,
                                row["vs_sql"]))
        p("\nCPU ms per request (median; Vesta server + PostgreSQL processes + wrk or pgbench):"
          "\n")
        p("| search | SQLite store | PostgreSQL store | JSONB SQL |")
        p("| --- | ---: | ---: | ---: |")
        for row in res["searches"]:
            p("| %s | %s |" % (row["name"], " | ".join(
                cpu_cell([c[k] for c in row["cpu"]]) for k in ("sqlite", "pg", "sql"))))
        agree = [r for r in res["searches"] if not r["between"] and not r["differ"]]
        p("\nResult checks: %d of %d searches give the same matches on both stores and in the "
          "JSONB SQL (count via `_summary=count`; the page's ids in order when sorted, as a set "
          "when every match is on the page)." % (len(agree), len(res["searches"])))

    if targets:
        p("\n**Targets** (median of the paired ratios, min–max):\n")
        p("| target | ratio | needed | met |")
        p("| --- | ---: | ---: | --- |")
        for name, need, xs in targets:
            m, lo, hi = lib.median_spread(xs)
            p("| %s | %.2f (%.2f–%.2f) | ≥ %.1f | %s |" % (
                name, m, lo, hi, need, "yes" if m >= need else "**no**"))

    if "profile" in parts and res.get("pgss"):
        p("\n**Profile** (pg_stat_statements with planning tracked, on only for these extra "
          "runs of the PostgreSQL-backed server; execution and planning time as PostgreSQL "
          "measures them in the backend, without the round trip or the protocol):")
        pr = cr.get("profile")
        if pr:
            for c in (1, 32):
                rows = pr[c]["rows"]
                ncreate = pr[c]["requests"]
                if not ncreate:
                    continue
                total = sum(r[1] + r[4] for r in rows)
                p("\nCreates, %d client%s (wrk %d s, %.0f/s, %d creates): %.1f statements "
                  "(round trips) per create, %.3f ms of PostgreSQL execution + %.3f ms of "
                  "planning per create.\n" % (
                      c, "" if c == 1 else "s", args.duration, pr[c]["rps"], ncreate,
                      sum(r[0] for r in rows) / ncreate, sum(r[1] for r in rows) / ncreate,
                      sum(r[4] for r in rows) / ncreate))
                p("| statement | per create | mean execution ms | mean planning ms | "
                  "share of time |")
                p("| --- | ---: | ---: | ---: | ---: |")
                for calls, tot, mean, q, plan in rows:
                    if calls >= ncreate / 10:
                        p("| `%s` | %.2f | %.3f | %.3f | %.0f%% |" % (
                            short(q), calls / ncreate, mean, plan / max(calls, 1),
                            100 * (tot + plan) / max(total, 1e-9)))
                if c == 32 and pr[c].get("tables"):
                    rows_in = [(t, n, k) for t, n, k in pr[c]["tables"] if n > 0]
                    # Per row of `resource` (one per create): the backends' counters reach
                    # pg_stat_user_tables late, but all tables' at once.
                    per = max(dict((t, n) for t, n, _ in rows_in).get("resource", 0), 1)
                    p("\nRows inserted per create, by table (pg_stat_user_tables, per row of "
                      "`resource`), with the table's number of indexes: %s; %.1f rows and %.1f "
                      "index entries in all.\n" % (
                          ", ".join("`%s` %.2f (%d)" % (t, n / per, k) for t, n, k in rows_in),
                          sum(n for _, n, _ in rows_in) / per,
                          sum(n * k for _, n, k in rows_in) / per))
        rd = res.get("profile_reads")
        if rd:
            rows = rd["rows"]
            n = max(rd["requests"], 1)
            p("\nReads (wrk %d s, %d connections, %.0f/s, %d reads): %.2f statements, %.3f ms "
              "of PostgreSQL execution and %.3f ms of planning per read.\n" % (
                  args.duration, args.connections, rd["rps"], n, sum(r[0] for r in rows) / n,
                  sum(r[1] for r in rows) / n, sum(r[4] for r in rows) / n))
            p("| statement | per read | mean execution ms | mean planning ms |")
            p("| --- | ---: | ---: | ---: |")
            for calls, tot, mean, q, plan in rows[:6]:
                p("| `%s` | %.2f | %.3f | %.3f |" % (short(q), calls / n, mean,
                                                      plan / max(calls, 1)))
        ps = res.get("profile_searches")
        if ps:
            p("\nSearches, each %d times from one client: the wall time of the HTTP request "
              "against the PostgreSQL time of its statements:\n" % ps[0]["n"])
            p("| search | wall ms / request | statements / request | PG execution ms / request "
              "| PG planning ms / request | the costliest statement (execution + planning ms) |")
            p("| --- | ---: | ---: | ---: | ---: | --- |")
            for s in ps:
                rows = s["rows"]
                top = max(rows, key=lambda r: r[1] + r[4]) if rows else None
                p("| %s | %.2f | %.1f | %.2f | %.2f | %s |" % (
                    s["name"], s["wall_ms"], sum(r[0] for r in rows) / s["n"],
                    sum(r[1] for r in rows) / s["n"], sum(r[4] for r in rows) / s["n"],
                    "`%s` (%.2f + %.2f)" % (short(top[3], 80), top[2], top[4] / max(top[0], 1))
                    if top else ""))
            p("\nThe statements of one search (%s), per request:\n" % ps[0]["name"])
            p("| statement | per request | mean execution ms | mean planning ms |")
            p("| --- | ---: | ---: | ---: |")
            for calls, tot, mean, q, plan in ps[0]["rows"]:
                p("| `%s` | %.2f | %.3f | %.3f |" % (short(q, 160), calls / ps[0]["n"], mean,
                                                      plan / max(calls, 1)))


if __name__ == "__main__":
    main()
