#!/usr/bin/env python3
"""Import benchmark: `vesta import` of generated populations into the embedded (SQLite) store and
into the PostgreSQL store, side by side in one run with two baselines on the same bytes.

Follows ../../../shared/design/BENCHMARKS.md: baselines in the same run, runs alternate
(A B C D A B C D ...) after an untimed warm-up, the median and min-max spread of the repeats are
reported, peak RSS comes from /usr/bin/time -v, and the cost growth between sizes an order of
magnitude apart is a ratio.

For each population size (`vesta generate --seed 7 --format ndjson`), each round runs, in turn:

  sqlite     `vesta import --data-dir FRESH POP` under /usr/bin/time -v: wall seconds, resources/s,
             CPU (user + system) per resource, peak RSS, and the bytes of every file in the data
             directory after the process has exited (vesta.db, and a -wal or -shm file if one is
             left) per resource.
  simdjson   the parse ceiling: build/bench/import/parse_ceiling (bench/import/parse_ceiling.cc)
             reads the same NDJSON files line by line and parses every line into a simdjson DOM,
             walking the whole document; one thread, then two: resources/s.
  floor      PostgreSQL's do-it-yourself floor, in a throw-away cluster (bench/search's
             `Postgres`: initdb in a temp dir, unix socket only, durability settings at their
             defaults, stopped with `pg_ctl stop -m fast` in a `finally`): `COPY` of the same lines
             (psql reading each file on its stdin) into resources(id, type, body jsonb), then
             `CREATE INDEX ... USING gin (body jsonb_path_ops)` and a btree on (type, id), both
             timed; resources/s of the total, and pg_total_relation_size('resources') per
             resource.
  pgstore    `vesta import --store postgresql://...` into a fresh database of the same cluster,
             under /usr/bin/time -v: resources/s, peak RSS, and the sum of pg_total_relation_size
             of the database's own tables (indexes and TOAST included) per resource.

Then, at the largest size, the export: `vesta export` of the last SQLite store into a fresh
folder (resources/s, peak RSS) alternated with the store's raw read of the same rows (the
sqlite3 shell running `SELECT json FROM resource r JOIN resource_current c ON c.seq = r.seq`
with its output to /dev/null); skipped, with one line saying why, when `vesta export` does not
exist.

Warm-up: one untimed round of every part at the smallest size; before each size's rounds the
parse ceiling reads its files once (the NDJSON is in the page cache for every timed run). Between
runs, dirty pages are flushed (sync) so that one run's writeback is not charged to the next.

Usage: bench/import/import_bench.py --vesta build/vesta [--sizes 1000,10000] [--repeats 3]
           [--repeats-large N] [--budget-large S] [--quick] [--workdir DIR]
           [--parse-ceiling PATH] [--no-postgres] [--pg-bindir DIR] [--plot-dir docs/img]
           [--results FILE] [--from-results FILE]
Prints a Markdown section on stdout; progress goes to stderr.
"""
import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "search"))
import lib  # noqa: E402
import search_bench as sb  # noqa: E402

log = sb.log
IMPORT_TIMEOUT_S = 3600
EXPORT_REPEATS_MAX = 3
RAW_READ_SQL = "SELECT json FROM resource r JOIN resource_current c ON c.seq = r.seq"
COPY_SQL = ("COPY resources (body) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', "
            "DELIMITER E'\\x02')")  # one JSON document a line, taken verbatim as one field
# Target figures (the issue); `flat` is this bench's reading of "peak memory independent of the
# input size": the large size's peak RSS at most 1.2x the small size's.
TARGET_RATE = 15000
TARGET_GROWTH = 1.3
TARGET_RSS_GROWTH = 1.2
TARGET_BYTES = 1.5
TARGET_EXPORT = 0.5


def git(*a):
    """git at the repository's root (pathspecs are relative to it)."""
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, cwd=HERE).stdout.strip() or HERE
    return subprocess.run(["git", *a], capture_output=True, text=True, cwd=root).stdout.strip()


def tree_state(vesta):
    """The commit, whether src/ differs from it, and when the binary was built."""
    dirty = git("status", "--porcelain", "--", "src", "CMakeLists.txt")
    return "commit %s%s, binary built %s UTC" % (
        git("rev-parse", "--short", "HEAD"), " + uncommitted changes in src/" if dirty else "",
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.path.getmtime(vesta))))


def flush():
    """sync, then a moment for the writeback to settle (bench/server's quiesce)."""
    os.sync()
    time.sleep(0.5)


def timed(cmd, cwd, timeout=IMPORT_TIMEOUT_S):
    """Runs `cmd` in `cwd` under /usr/bin/time -v: dict(s (wall), cpu_s, rss_mib, out, rc)."""
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                       timeout=timeout, cwd=cwd)
    s = time.monotonic() - t0

    def field(name):
        m = re.search(r"%s: ([\d.]+)" % re.escape(name), r.stderr)
        return float(m.group(1)) if m else float("nan")
    return dict(s=s, cpu_s=field("User time (seconds)") + field("System time (seconds)"),
                rss_mib=field("Maximum resident set size (kbytes)") / 1024.0,
                out=r.stdout, err=r.stderr, rc=r.returncode)


def dir_bytes(path):
    """(total bytes, sorted file names) of every file under `path`."""
    total, names = 0, []
    for d, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(d, f))
            names.append(os.path.relpath(os.path.join(d, f), path))
    return total, sorted(names)


def run_import(args, target, pop, resources, work):
    """`vesta import TARGET POP` under time -v, in `work` (where a reject file goes); raises
    unless it exits 0 or 3 (some lines rejected: counted in r["rejected"], the rest loaded).
    Rates are over the input's lines, whatever was rejected."""
    rejects = os.path.join(work, "rejects.ndjson")
    if os.path.exists(rejects):
        os.remove(rejects)
    extra = ["--rejects", rejects] if args.import_rejects_option else []
    r = timed([args.vesta, "import", *target, *extra, pop], cwd=work)
    if r["rc"] not in (0, 3):
        raise RuntimeError("vesta import %s exited %d: %s" % (
            target[0], r["rc"], (r["out"] + r["err"])[-1500:]))
    r["rejected"] = 0
    if r["rc"] == 3:
        r["rejected"] = -1  # some, how many unknown without a reject file
        if os.path.exists(rejects):
            with open(rejects, "rb") as f:
                r["rejected"] = sum(1 for line in f if line.strip())
        log("  vesta import rejected %s line(s): %s" % (
            r["rejected"] if r["rejected"] >= 0 else "some",
            (r["err"].strip().splitlines() or [""])[0][:300]))
    r["rate"] = resources / r["s"]
    r["cpu_us"] = r["cpu_s"] / resources * 1e6
    return r


# ---- the parts of a round -----------------------------------------------------------------------

def part_sqlite(args, pop, n, work, k):
    data = os.path.join(work, "sqlite%d-%d" % (n["patients"], k))
    shutil.rmtree(data, ignore_errors=True)
    flush()
    r = run_import(args, ["--data-dir", data], pop, n["resources"], work)
    r["bytes"], r["files"] = dir_bytes(data)
    r["bpr"] = r["bytes"] / n["resources"]
    r["dir"] = data
    return r


def part_simdjson(args, n, threads):
    r = subprocess.run([args.parse_ceiling, "--threads", str(threads), *n["files"]],
                       capture_output=True, text=True, timeout=IMPORT_TIMEOUT_S)
    m = dict(re.findall(r"(\w+)=([\d.]+)", r.stdout))
    if r.returncode != 0 or int(m.get("resources", -1)) != n["resources"]:
        raise RuntimeError("parse_ceiling: %s %s" % (r.stdout.strip(), r.stderr.strip()[-500:]))
    s = float(m["seconds"])
    return dict(s=s, rate=n["resources"] / s, elements=int(m["elements"]))


def part_floor(pg, n):
    """COPY + indexes into a fresh `resources` table; the table is left for the size figure."""
    pg.psql("DROP TABLE IF EXISTS resources",
            # id and type are computed by PostgreSQL from the line itself, so the COPY takes the
            # NDJSON verbatim (no client-side extraction).
            "CREATE TABLE resources (id text GENERATED ALWAYS AS (body->>'id') STORED, "
            "type text GENERATED ALWAYS AS (body->>'resourceType') STORED, body jsonb NOT NULL)",
            "CHECKPOINT")
    flush()
    t0 = time.monotonic()
    for path in n["pg_files"]:
        with open(path, "rb") as f:
            r = subprocess.run(pg.psql_cmd([COPY_SQL]), env=pg.env, stdin=f,
                               capture_output=True, timeout=IMPORT_TIMEOUT_S)
        if r.returncode != 0:
            raise RuntimeError("COPY %s: %s" % (path, r.stderr.decode(errors="replace")[-1500:]))
    t1 = time.monotonic()
    pg.psql("CREATE INDEX resources_body ON resources USING gin (body jsonb_path_ops)",
            "CREATE INDEX resources_type_id ON resources (type, id)")
    t2 = time.monotonic()
    total, table, indexes, rows = (int(x) for x in pg.psql(
        "SELECT pg_total_relation_size('resources'), pg_table_size('resources'), "
        "pg_indexes_size('resources'), (SELECT count(*) FROM resources)").split("|"))
    if rows != n["resources"]:
        raise RuntimeError("COPY loaded %d rows of %d" % (rows, n["resources"]))
    pg.psql("CHECKPOINT")
    return dict(copy_s=t1 - t0, index_s=t2 - t1, s=t2 - t0, rate=n["resources"] / (t2 - t0),
                bytes=total, table=table, indexes=indexes, bpr=total / n["resources"])


def store_bytes(pg, db):
    """(the database's own tables with their indexes and TOAST, pg_database_size)."""
    out = pg.psql("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0), "
                  "pg_database_size(current_database()) FROM pg_class c JOIN pg_namespace s ON "
                  "s.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') AND s.nspname NOT IN "
                  "('pg_catalog', 'information_schema') AND s.nspname NOT LIKE 'pg_toast%'",
                  db=db)
    tables, database = (int(x) for x in out.split("|"))
    return tables, database


def part_pgstore(args, pg, n, k):
    db = "store%d_%d" % (n["patients"], k)
    pg.psql("DROP DATABASE IF EXISTS %s" % db, "CREATE DATABASE %s" % db, "CHECKPOINT")
    flush()
    uri = "postgresql://%s@/%s?host=%s&port=%d" % (sb.PG_USER, db, pg.base, sb.PG_PORT)
    try:
        r = run_import(args, ["--store", uri], n["pop"], n["resources"], args.work)
        r["bytes"], r["database"] = store_bytes(pg, db)
        r["bpr"] = r["bytes"] / n["resources"]
        pg.psql("CHECKPOINT")
    finally:
        pg.psql("DROP DATABASE IF EXISTS %s" % db)
    return r


# ---- export --------------------------------------------------------------------------------------

def export_help(vesta):
    """`vesta export --help`'s text, or None when there is no export subcommand."""
    r = subprocess.run([vesta, "export", "--help"], capture_output=True, text=True, timeout=60)
    text = r.stdout + r.stderr
    if r.returncode != 0 or not re.search(r"Usage: \S*vesta export", text):
        return None
    return text


def exported_resources(out_dir):
    """Lines of every NDJSON file the export wrote (compressed or not)."""
    count = 0
    for path in glob.glob(os.path.join(out_dir, "**", "*"), recursive=True):
        if path.endswith(".ndjson"):
            with open(path, "rb") as f:
                count += sum(1 for line in f if line.strip())
        elif path.endswith(".ndjson.gz"):
            import gzip
            with gzip.open(path, "rb") as f:
                count += sum(1 for line in f if line.strip())
    return count


def part_export(args, store_dir, n, work, help_text):
    target = (["--data-dir", store_dir] if "--data-dir" in help_text
              else ["--store", "sqlite:" + store_dir])
    repeats = min(args.repeats, EXPORT_REPEATS_MAX)
    out_dir = os.path.join(work, "export")
    rows = current_rows(store_dir)
    exports, raws = [], []

    def export_once():
        shutil.rmtree(out_dir, ignore_errors=True)
        flush()
        r = timed([args.vesta, "export", *target, "--out", out_dir], cwd=work)
        if r["rc"] != 0:
            raise RuntimeError("vesta export exited %d: %s" % (r["rc"],
                                                             (r["out"] + r["err"])[-800:]))
        r["resources"] = exported_resources(out_dir)
        r["bytes"] = dir_bytes(out_dir)[0]
        r["rate"] = r["resources"] / r["s"]
        return r

    def raw_once():
        flush()
        with open(os.devnull, "wb") as null:
            t0 = time.monotonic()
            subprocess.run(["sqlite3", "-readonly", os.path.join(store_dir, "vesta.db"),
                            RAW_READ_SQL], stdout=null, check=True, timeout=IMPORT_TIMEOUT_S)
        s = time.monotonic() - t0
        return dict(s=s, rate=rows / s)

    log("export (warm-up)")
    export_once()
    raw_once()
    for k in range(repeats):
        exports.append(export_once())
        raws.append(raw_once())
        log("  export %.0f resources/s, raw read %.0f rows/s" % (exports[-1]["rate"],
                                                                  raws[-1]["rate"]))
    shutil.rmtree(out_dir, ignore_errors=True)
    return dict(target=target, exports=exports, raws=raws, rows=rows, n=n)


def current_rows(store_dir):
    out = subprocess.run(["sqlite3", "-readonly", os.path.join(store_dir, "vesta.db"),
                          "SELECT count(*) FROM resource_current"], capture_output=True,
                         text=True, check=True, timeout=600).stdout
    return int(out.strip())


# ---- populations ---------------------------------------------------------------------------------

def population(args, patients, work):
    """Generates (or, in a --workdir, reuses) the population; its files, counts and the copies
    PostgreSQL loads (a line with `\\u0000`, which jsonb cannot hold, gets U+FFFD instead)."""
    pop = os.path.join(work, "pop%d" % patients)
    done = os.path.join(work, "pop%d.done" % patients)
    if not os.path.exists(done):
        shutil.rmtree(pop, ignore_errors=True)
        log("generate %d patients" % patients)
        subprocess.run([args.vesta, "generate", "--patients", str(patients), "--seed", "7",
                        "--format", "ndjson", "--out", pop, "--quiet"], check=True,
                       timeout=IMPORT_TIMEOUT_S)
        open(done, "w").close()
    files = sorted(glob.glob(os.path.join(pop, "*.ndjson")))
    resources, pg_files, nul_lines = 0, [], 0
    for f in files:
        has_nul = False
        with open(f, "rb") as fh:
            for line in fh:
                resources += bool(line.strip())
                has_nul = has_nul or b"\\u0000" in line
        if not has_nul:
            pg_files.append(f)
            continue
        fixed_dir = os.path.join(work, "pgcopy%d" % patients)
        os.makedirs(fixed_dir, exist_ok=True)
        fixed = os.path.join(fixed_dir, os.path.basename(f))
        with open(f, "rb") as fh, open(fixed, "wb") as out:
            for line in fh:
                new = sb.NUL_ESCAPE.sub(rb"\1\\ufffd", line)
                nul_lines += new != line
                out.write(new)
        pg_files.append(fixed)
    return dict(patients=patients, pop=pop, files=files, resources=resources,
                bytes=sum(os.path.getsize(f) for f in files), pg_files=pg_files,
                nul_lines=nul_lines)


# ---- the run -------------------------------------------------------------------------------------

def round_parts(args, pg, n, work, k, keep_store):
    """One round: the parts in their fixed order. Returns {part: figures}."""
    res = {}
    r = part_sqlite(args, n["pop"], n, work, k)
    if not keep_store:
        shutil.rmtree(r["dir"], ignore_errors=True)
    res["sqlite"] = r
    log("  sqlite   %8.0f resources/s  %6.1f MiB  %5.0f B/resource" % (r["rate"], r["rss_mib"],
                                                                      r["bpr"]))
    for threads in (1, 2):
        r = part_simdjson(args, n, threads)
        res["simdjson%d" % threads] = r
        log("  simdjson %8.0f resources/s  (%d thread%s)" % (r["rate"], threads,
                                                            "s" if threads > 1 else ""))
    if pg:
        r = part_floor(pg, n)
        res["floor"] = r
        log("  floor    %8.0f resources/s  (COPY %.1f s, indexes %.1f s)  %5.0f B/resource" % (
            r["rate"], r["copy_s"], r["index_s"], r["bpr"]))
        r = part_pgstore(args, pg, n, k)
        res["pgstore"] = r
        log("  pgstore  %8.0f resources/s  %6.1f MiB  %5.0f B/resource" % (
            r["rate"], r["rss_mib"], r["bpr"]))
    return res


def run(args, work, pg, out):
    sizes = [int(s) for s in args.sizes.split(",")]
    if pg:
        # Enough shared buffers for the largest table and its indexes (about 1.5x the NDJSON,
        # the search bench's rule: twice the NDJSON in 128 MB steps).
        largest = population(args, max(sizes), work)
        shared_mb = max(128, -(-2 * largest["bytes"] // (128 << 20)) * 128)
        log("PostgreSQL: initdb and start (shared_buffers %d MB)" % shared_mb)
        pg.start(shared_mb)
        out["pg_version"] = pg.version
        out["pg_settings"] = [kv for kv in pg.settings
                              if kv[0] not in ("unix_socket_directories", "port")]
    out["sizes"] = []
    for i, patients in enumerate(sizes):
        n = population(args, patients, work)
        repeats = args.repeats_large if (args.repeats_large and patients == max(sizes)
                                         and len(sizes) > 1) else args.repeats
        log("%d patients: %d resources, %.0f MB of NDJSON, %d round(s)" % (
            patients, n["resources"], n["bytes"] / 1e6, repeats))
        part_simdjson(args, n, 1)  # reads the files into the page cache
        if i == 0:
            log("warm-up round (untimed)")
            round_parts(args, pg, n, work, 99, keep_store=False)
        rounds = []
        t0 = time.monotonic()
        for k in range(repeats):
            largest = patients == max(sizes)
            # At the largest size, no round is started that would end past --budget-large (the
            # previous round's duration is the estimate); the first always runs.
            spent = time.monotonic() - t0
            if largest and args.budget_large and k > 0 and \
                    spent + spent / k > args.budget_large:
                log("round %d skipped: %.0f s spent, the budget is %d s" % (
                    k + 1, spent, args.budget_large))
                n["budget_stop"] = True
                break
            log("round %d of %d" % (k + 1, repeats))
            rounds.append(round_parts(args, pg, n, work, k, keep_store=largest))
            if largest:
                if out.get("export_store"):
                    shutil.rmtree(out["export_store"], ignore_errors=True)
                out["export_store"] = rounds[-1]["sqlite"]["dir"]
        n["rounds"] = rounds
        out["sizes"].append(n)
        if pg:
            pg.psql("DROP TABLE IF EXISTS resources")
    store = out.get("export_store")
    help_text = export_help(args.vesta)
    if help_text is None:
        out["export_skip"] = "`vesta export --help` shows no export subcommand in this build"
    elif store:
        try:
            out["export"] = part_export(args, store, out["sizes"][-1], work, help_text)
        except (RuntimeError, subprocess.SubprocessError, OSError) as e:
            out["export_skip"] = "the export failed: %s" % str(e).replace("\n", " ")[:400]
    if store:
        shutil.rmtree(store, ignore_errors=True)


# ---- the report ----------------------------------------------------------------------------------

fmt = lib.fmt_number


def values(n, part, key):
    return [r[part][key] for r in n["rounds"] if part in r]


def ratios(n, a, b, key="rate"):
    return [r[a][key] / r[b][key] for r in n["rounds"] if a in r and b in r]


def ratio(xs):
    """lib.fmt_ratio, with three significant digits for ratios far below 1 (Vesta against the
    parse ceiling)."""
    if not xs:
        return "n/a"
    m, lo, hi = lib.median_spread(xs)
    if m >= 0.1:
        return lib.fmt_ratio(xs)
    return "**%.3g** (%.3g–%.3g)" % (m, lo, hi)


def spread(xs):
    return lib.fmt_spread(xs) if xs else "n/a"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def met(ok):
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def report(args, out, state, started, pg_skip):
    sizes = out["sizes"]
    pg_on = "pg_version" in out
    p = []
    p.append("Measured %s, %s; %d cores; load average %s at the end. `free -g` at the start:\n" % (
        started, state, os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
    p.append("```\n%s\n```\n" % out["free"])
    p.append("Populations: `vesta generate --patients N --seed 7 --format ndjson`.\n")
    p.append("| patients | resources | NDJSON (MB) | rounds |")
    p.append("| ---: | ---: | ---: | ---: |")
    for n in sizes:
        p.append("| %s | %s | %.0f | %d%s |" % (
            fmt(n["patients"]), fmt(n["resources"]), n["bytes"] / 1e6, len(n["rounds"]),
            " (time budget, `--budget-large %d`)" % args.budget_large
            if n.get("budget_stop") else ""))
    for n in sizes:
        for key, name in (("sqlite", "SQLite store"), ("pgstore", "PostgreSQL store")):
            rej = [r[key].get("rejected", 0) for r in n["rounds"] if key in r]
            if any(rej):
                p.append("\n**%s patients, %s: `vesta import` rejected %s line(s)** (exit "
                         "status 3; rates and bytes per resource are still over all %s input "
                         "lines)." % (fmt(n["patients"]), name,
                                      "/".join(str(x) if x >= 0 else "some" for x in rej),
                                      fmt(n["resources"])))
    if pg_skip:
        p.append("\nPostgreSQL parts skipped: %s." % pg_skip)
    else:
        p.append("\nPostgreSQL: %s, one throw-away cluster for the run with the default durability "
                 "settings (fsync, synchronous_commit, full_page_writes, wal_level) and %s." % (
                     out["pg_version"], ", ".join("`%s=%s`" % kv for kv in out["pg_settings"])))
    for n in sizes:
        if n["nul_lines"]:
            p.append("\n%s patients: %d line(s) contain `\\u0000`, which jsonb cannot hold: "
                     "PostgreSQL's floor loads them with U+FFFD instead." % (
                         fmt(n["patients"]), n["nul_lines"]))

    # rates
    p.append("\n### Resources per second\n")
    p.append("Median (min–max) over the rounds; every round runs the columns left to right.\n")
    head = ["patients", "Vesta import, SQLite", "simdjson 1 thread", "simdjson 2 threads"]
    if pg_on:
        head += ["PostgreSQL COPY + indexes", "Vesta import, PostgreSQL store"]
    p.append("| " + " | ".join(head) + " |")
    p.append("| " + " | ".join("---:" for _ in head) + " |")
    for n in sizes:
        row = [fmt(n["patients"]), spread(values(n, "sqlite", "rate")),
               spread(values(n, "simdjson1", "rate")), spread(values(n, "simdjson2", "rate"))]
        if pg_on:
            row += [spread(values(n, "floor", "rate")), spread(values(n, "pgstore", "rate"))]
        p.append("| " + " | ".join(row) + " |")

    p.append("\nRatios, each the median (min–max) of the rounds' own ratios (a round's Vesta "
             "figure over the baseline measured next to it):\n")
    head = ["patients", "SQLite / simdjson 1t", "SQLite / simdjson 2t"]
    if pg_on:
        head += ["SQLite / PG floor", "PG store / simdjson 2t", "PG store / PG floor",
                 "PG store / SQLite"]
    p.append("| " + " | ".join(head) + " |")
    p.append("| " + " | ".join("---:" for _ in head) + " |")
    for n in sizes:
        row = [fmt(n["patients"]), ratio(ratios(n, "sqlite", "simdjson1")),
               ratio(ratios(n, "sqlite", "simdjson2"))]
        if pg_on:
            row += [ratio(ratios(n, "sqlite", "floor")),
                    ratio(ratios(n, "pgstore", "simdjson2")),
                    ratio(ratios(n, "pgstore", "floor")),
                    ratio(ratios(n, "pgstore", "sqlite"))]
        p.append("| " + " | ".join(row) + " |")

    p.append("\n### Time, CPU and memory of `vesta import`\n")
    p.append("Wall seconds, CPU (user + system, all threads) per resource and peak RSS "
             "(`/usr/bin/time -v`, \"Maximum resident set size\"), median (min–max).\n")
    head = ["patients", "SQLite: s", "SQLite: CPU µs/resource", "SQLite: peak RSS MiB"]
    if pg_on:
        head += ["PG store: s", "PG store: CPU µs/resource (vesta only)", "PG store: peak RSS MiB"]
    p.append("| " + " | ".join(head) + " |")
    p.append("| " + " | ".join("---:" for _ in head) + " |")
    for n in sizes:
        row = [fmt(n["patients"]), spread(values(n, "sqlite", "s")),
               spread(values(n, "sqlite", "cpu_us")), spread(values(n, "sqlite", "rss_mib"))]
        if pg_on:
            row += [spread(values(n, "pgstore", "s")), spread(values(n, "pgstore", "cpu_us")),
                    spread(values(n, "pgstore", "rss_mib"))]
        p.append("| " + " | ".join(row) + " |")

    if pg_on:
        p.append("\nPostgreSQL's floor in detail (seconds, median (min–max)):\n")
        p.append("| patients | COPY s | GIN + btree s | total s | table MB | indexes MB |")
        p.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for n in sizes:
            p.append("| %s | %s | %s | %s | %.0f | %.0f |" % (
                fmt(n["patients"]), spread(values(n, "floor", "copy_s")),
                spread(values(n, "floor", "index_s")), spread(values(n, "floor", "s")),
                med(values(n, "floor", "table")) / 1e6, med(values(n, "floor", "indexes")) / 1e6))

    # bytes
    p.append("\n### Bytes per resource\n")
    files = sorted({f for n in sizes for r in n["rounds"] for f in r["sqlite"]["files"]})
    p.append("SQLite store: every file in the data directory after `vesta import` has exited "
             "(here: %s), over the resources imported. PostgreSQL store: the sum of "
             "`pg_total_relation_size` (heap, TOAST and indexes) of the database's own tables "
             "(WAL not counted); `pg_database_size` in brackets. Floor: "
             "`pg_total_relation_size('resources')` after the two indexes.\n" % (
                 ", ".join("`%s`" % f for f in files)))
    head = ["patients", "SQLite store"]
    if pg_on:
        head += ["PostgreSQL store", "PG floor (table + indexes)", "SQLite / floor",
                 "PG store / floor"]
    p.append("| " + " | ".join(head) + " |")
    p.append("| " + " | ".join("---:" for _ in head) + " |")
    for n in sizes:
        row = [fmt(n["patients"]), fmt(med(values(n, "sqlite", "bpr")))]
        if pg_on:
            row += ["%s (%s)" % (fmt(med(values(n, "pgstore", "bpr"))),
                                 fmt(med(values(n, "pgstore", "database")) / n["resources"])),
                    fmt(med(values(n, "floor", "bpr"))),
                    "%.2f" % (med(values(n, "sqlite", "bpr")) / med(values(n, "floor", "bpr"))),
                    "%.2f" % (med(values(n, "pgstore", "bpr")) / med(values(n, "floor", "bpr")))]
        p.append("| " + " | ".join(row) + " |")

    # growth
    growth = {}
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        p.append("\n### Cost growth %s → %s patients\n" % (fmt(a["patients"]), fmt(b["patients"])))
        p.append("Cost per resource at the large size over the small size's (median rates: "
                 "small / large; 1.00 = linear), the CPU per resource large / small (less "
                 "sensitive to the machine's load than the wall-clock rates; the PostgreSQL "
                 "store's is the vesta process's alone), and the peak RSS large / small.\n")
        p.append("| measure | %s | %s | growth |" % (fmt(a["patients"]), fmt(b["patients"])))
        p.append("| --- | ---: | ---: | ---: |")
        parts = [("sqlite", "Vesta import, SQLite"), ("simdjson1", "simdjson 1 thread"),
                 ("simdjson2", "simdjson 2 threads")]
        if pg_on:
            parts += [("floor", "PostgreSQL COPY + indexes"),
                      ("pgstore", "Vesta import, PostgreSQL store")]
        for key, name in parts:
            ra, rb = med(values(a, key, "rate")), med(values(b, key, "rate"))
            growth[key] = ra / rb
            p.append("| %s, resources/s | %s | %s | %.2f |" % (name, fmt(ra), fmt(rb), ra / rb))
        for key, name in [("sqlite", "SQLite")] + ([("pgstore", "PostgreSQL store (vesta only)")]
                                                   if pg_on else []):
            ca, cb = med(values(a, key, "cpu_us")), med(values(b, key, "cpu_us"))
            growth[key + "_cpu"] = cb / ca
            p.append("| `vesta import` CPU µs per resource, %s | %s | %s | %.2f |" % (
                name, fmt(ca), fmt(cb), cb / ca))
        for key, name in [("sqlite", "SQLite")] + ([("pgstore", "PostgreSQL store")]
                                                   if pg_on else []):
            ma, mb = med(values(a, key, "rss_mib")), med(values(b, key, "rss_mib"))
            growth[key + "_rss"] = mb / ma
            p.append("| `vesta import` peak RSS MiB, %s | %.1f | %.1f | %.2f |" % (
                name, ma, mb, mb / ma))

    # export
    p.append("\n### Export\n")
    ex = out.get("export")
    if ex is None:
        p.append("Skipped: %s." % out.get("export_skip", "no store to export"))
    else:
        e, raw = ex["exports"], ex["raws"]
        p.append("`vesta export %s --out DIR` of the %s-patient SQLite store (%s current "
                 "resources) against the store's raw read of the same rows: the sqlite3 shell "
                 "running `%s` to /dev/null. Median (min–max) of %d alternated runs after one "
                 "warm-up.\n" % (" ".join(ex["target"][:1]) + " STORE", fmt(ex["n"]["patients"]),
                                 fmt(ex["rows"]), RAW_READ_SQL, len(e)))
        p.append("| measure | resources/s | s | peak RSS MiB |")
        p.append("| --- | ---: | ---: | ---: |")
        p.append("| vesta export (%s resources written, %.0f MB) | %s | %s | %s |" % (
            fmt(med([x["resources"] for x in e])), med([x["bytes"] for x in e]) / 1e6,
            spread([x["rate"] for x in e]), spread([x["s"] for x in e]),
            spread([x["rss_mib"] for x in e])))
        p.append("| raw read (sqlite3) | %s | %s | |" % (spread([x["rate"] for x in raw]),
                                                        spread([x["s"] for x in raw])))
        p.append("| export / raw read | %s | | |" % ratio(
            [x["rate"] / y["rate"] for x, y in zip(e, raw)]))

    # targets
    big = sizes[-1]
    p.append("\n### Targets (%s patients)\n" % fmt(big["patients"]))
    p.append("| measure | result | target | met |")
    p.append("| --- | ---: | ---: | --- |")
    stores = [("sqlite", "SQLite store")] + ([("pgstore", "PostgreSQL store")] if pg_on else [])
    for key, name in stores:
        rate = med(values(big, key, "rate"))
        p.append("| %s: import resources/s | %s | ≥ %s | %s |" % (
            name, fmt(rate), fmt(TARGET_RATE), met(rate >= TARGET_RATE)))
        g, c = growth.get(key), growth.get(key + "_cpu")
        p.append("| %s: cost growth %s → %s patients (wall; CPU in brackets) | %s | ≤ %.1fx "
                 "| %s |" % (name, fmt(sizes[0]["patients"]), fmt(big["patients"]),
                             "%.2fx (%.2fx)" % (g, c) if g else "n/a", TARGET_GROWTH,
                             met(g <= TARGET_GROWTH if g else None)))
        g = growth.get(key + "_rss")
        p.append("| %s: peak RSS large / small | %s | ≤ %.1fx (flat) | %s |" % (
            name, "%.2fx" % g if g else "n/a", TARGET_RSS_GROWTH,
            met(g <= TARGET_RSS_GROWTH if g else None)))
        if pg_on:
            b = med(values(big, key, "bpr")) / med(values(big, "floor", "bpr"))
            p.append("| %s: bytes per resource / PG table + indexes | %.2fx | ≤ %.1fx | %s |" % (
                name, b, TARGET_BYTES, met(b <= TARGET_BYTES)))
    if ex is not None:
        x = med([a["rate"] / b["rate"] for a, b in zip(ex["exports"], ex["raws"])])
        p.append("| export / raw read of the same rows | %.2fx | ≥ %.1fx | %s |" % (
            x, TARGET_EXPORT, met(x >= TARGET_EXPORT)))
    else:
        p.append("| export / raw read of the same rows | not measured | ≥ %.1fx | n/a |" %
                 TARGET_EXPORT)

    if args.plot_dir and len(sizes) >= 2 and shutil.which("gnuplot"):
        p.append("\n" + plot(args.plot_dir, sizes, pg_on))
    print("\n".join(p))


def plot(plot_dir, sizes, pg_on):
    os.makedirs(plot_dir, exist_ok=True)
    dat = os.path.join(plot_dir, "import.dat")
    keys = ["sqlite", "simdjson1", "simdjson2"] + (["floor", "pgstore"] if pg_on else [])
    with open(dat, "w") as f:
        f.write("# patients " + " ".join(keys) + " (median resources/s)\n")
        for n in sizes:
            f.write("%d %s\n" % (n["patients"], " ".join("%.1f" % med(values(n, k, "rate"))
                                                         for k in keys)))
    png = os.path.join(plot_dir, "import.png")
    titles = {"sqlite": "vesta import, SQLite", "simdjson1": "simdjson parse, 1 thread",
              "simdjson2": "simdjson parse, 2 threads", "floor": "PostgreSQL COPY + GIN + btree",
              "pgstore": "vesta import, PostgreSQL store"}
    curves = ", ".join("'%s' u 1:%d w lp t '%s'" % (dat if i == 0 else "", i + 2, titles[k])
                       for i, k in enumerate(keys))
    script = """
set terminal pngcairo size 800,480 font ",10"
set output '%s'
set logscale xy
set xlabel 'patients'
set ylabel 'resources/s'
set key below
set xrange [%d:%d]
set title 'import rate against population size (same run)'
plot %s
""" % (png, sizes[0]["patients"] // 2, sizes[-1]["patients"] * 2, curves)
    subprocess.run(["gnuplot"], input=script, text=True, check=True, timeout=60)
    return "![import rate against population size](img/import.png)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--parse-ceiling", default=None,
                    help="the parse_ceiling binary (default: next to --vesta, "
                         "bench/import/parse_ceiling)")
    ap.add_argument("--sizes", default=None, help="patients, comma-separated (1000,10000)")
    ap.add_argument("--quick", action="store_true", help="sizes 100,1000 unless --sizes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--repeats-large", type=int, default=0,
                    help="rounds at the largest size (default: --repeats)")
    ap.add_argument("--budget-large", type=int, default=0,
                    help="seconds: at the largest size, start no round that would end past "
                         "this (estimated from the rounds so far); 0: no limit")
    ap.add_argument("--workdir", default=None,
                    help="keep populations here and reuse them on the next run")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--pg-bindir", default=None)
    ap.add_argument("--plot-dir", default=None, help="write import.dat and import.png here")
    ap.add_argument("--results", default=None,
                    help="also write the measurements to this JSON file")
    ap.add_argument("--from-results", default=None,
                    help="measure nothing: print the report of a --results file")
    args = ap.parse_args()
    if args.from_results:
        with open(args.from_results) as f:
            saved = json.load(f)
        args.budget_large = saved["budget_large"]
        report(args, saved["out"], saved["state"], saved["started"], saved["pg_skip"])
        return
    args.sizes = args.sizes or ("100,1000" if args.quick else "1000,10000")
    args.vesta = os.path.abspath(args.vesta)
    args.parse_ceiling = os.path.abspath(args.parse_ceiling or os.path.join(
        os.path.dirname(args.vesta), "bench", "import", "parse_ceiling"))
    if not os.access(args.parse_ceiling, os.X_OK):
        raise SystemExit("bench/import: %s not found (cmake --build build --target "
                         "parse_ceiling)" % args.parse_ceiling)
    if not os.access("/usr/bin/time", os.X_OK):
        raise SystemExit("bench/import: /usr/bin/time not found (Debian package `time`)")
    pg_skip = None
    bindir = None
    if args.no_postgres:
        pg_skip = "--no-postgres"
    else:
        bindir, pg_skip = sb.find_pg_bindir(args.pg_bindir)
    acct = sb.server_account() if bindir else None
    state = tree_state(args.vesta)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = {"free": subprocess.run(["free", "-g"], capture_output=True,
                                  text=True).stdout.rstrip()}
    with lib.work_dir("vesta-import-bench-", keep=args.workdir) as work:
        if acct is not None and not args.workdir:
            os.chmod(work, 0o711)  # the server's account may pass through, not list it
        # Every run uses one copy of the binary, taken now: a build directory rebuilt during
        # the run would otherwise measure two binaries (or none, while it is being linked).
        snapshot = os.path.join(work, "vesta-under-test")
        shutil.copy2(args.vesta, snapshot)
        args.vesta = snapshot
        args.work = work
        args.import_rejects_option = "--rejects" in subprocess.run(
            [snapshot, "import", "--help"], check=True, capture_output=True, text=True,
            timeout=60).stdout
        pg = pg_dir = None
        try:
            if bindir:
                pg_dir = sb.pg_dir_for(work, 0, acct)
                pg = sb.Postgres(bindir, pg_dir, acct)
            run(args, work, pg, out)
        finally:
            if pg:
                pg.stop()
            if pg_dir:
                shutil.rmtree(pg_dir, ignore_errors=True)
            for d in glob.glob(os.path.join(work, "sqlite*")) + [os.path.join(work, "export")]:
                shutil.rmtree(d, ignore_errors=True)
            if os.path.exists(snapshot):
                os.remove(snapshot)
    if args.results:
        with open(args.results, "w") as f:
            json.dump(dict(out=out, state=state, started=started, pg_skip=pg_skip,
                           budget_large=args.budget_large), f)
    report(args, out, state, started, pg_skip)


if __name__ == "__main__":
    main()
