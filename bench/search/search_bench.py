#!/usr/bin/env python3
"""Search benchmarks (docs/search.md) on generated populations of two sizes.

Follows ../../../shared/design/BENCHMARKS.md: baselines in the same run (GET /healthz on the
same server, and the same searches hand-written in SQL over a PostgreSQL table of JSONB with a
GIN index), runs alternate query / healthz / PostgreSQL, the median and min-max spread of the
repeats are reported after one untimed warm-up, wrk and pgbench run on loopback / a unix socket
with a fixed duration and connection count, and the cost growth between sizes an order of
magnitude apart is given as a ratio.

For each population size: `vesta generate --format ndjson` (deterministic, fixed seed), `vesta
import` (the index hook extracts every search parameter at write time), then `vesta serve` and
  (a) ten typical clinical searches: requests/s, p50 and p99 latency, and requests/s over the
      baseline's;
  (b) resources matched per second with _summary=count for three broad searches (total x req/s);
  (c) unless --no-postgres (or the PostgreSQL binaries are missing): the same NDJSON loaded with
      COPY into one table resources(id text, type text, body jsonb) with a GIN (jsonb_path_ops)
      index on body and a btree on (type, id) -- the common do-it-yourself design -- in a
      throw-away cluster (initdb in a temp dir, unix socket only, stopped with pg_ctl at the
      end); each search hand-written in SQL (pg_queries()), checked to match Vesta's results, and
      measured with pgbench alternating with the wrk runs: queries/s, p50/p99 and Vesta/PG.

Running as root: initdb and postgres refuse to run as root, so the bench starts them (only
them) as an unprivileged account -- `postgres` (made by Debian's package) or else `nobody` --
through Python's subprocess user/group switch (setgid/setuid in the child before exec: no su,
sudo or runuser, no PAM); the cluster's directory is chowned to that account, and the bench's
own temp dir is made traversable (0711) for it, or, for a --workdir it cannot reach, the
cluster goes to a fresh temp dir of its own. psql and pgbench run as the caller and connect
over the unix socket as the cluster's superuser `bench` (trust authentication; no TCP).

Usage: bench/search/search_bench.py --vesta build/vesta [--generator build/vesta]
           [--sizes 1000,10000] [--repeats 3] [--duration 4] [--connections 32]
           [--no-postgres] [--pg-bindir DIR] [--explain]
Prints a Markdown section on stdout; progress goes to stderr.
"""
import argparse
import glob
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def quiesce(proc, limit_s=120):
    """Waits until the server has stopped using CPU: when wrk stops, the requests it leaves in
    flight are still worked off (for seconds, with slow searches), and would be measured as part
    of the next run -- the baseline's or PostgreSQL's. Bounded; a no-op without /proc."""
    path = "/proc/%d/stat" % proc.pid

    def cpu_ticks():
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    try:
        last = cpu_ticks()
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = cpu_ticks()
            if now - last <= os.sysconf("SC_CLK_TCK") // 40:  # under 5% of a core
                return
            last = now
        log("server still busy after %d s" % limit_s)
    except (OSError, ValueError, IndexError):
        pass


def wrk(url, connections, duration):
    """(requests/s, p50 ms, p99 ms) of one wrk run."""
    r = lib.wrk(url, duration, connections)
    return r["rps"], r["p50"], r["p99"]


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


# ---- The PostgreSQL baseline ---------------------------------------------------------------------
#
# One table of JSONB, the common do-it-yourself design: resources(id, type, body jsonb), a GIN
# index on body with jsonb_path_ops (it answers containment, @>) and a btree on (type, id).
# Every search below is what such a designer would write by hand: containment where it fits (so
# the GIN index finds the rows), casts of extracted values for date ranges and sort keys, joins
# for chains and _has. Each is checked against Vesta's results before it is measured.

VESTA_DEFAULT_PAGE = 50   # rest/api.h: default_page_size (`vesta serve` without a page option)
PG_PORT = 5432            # names the socket file only: the server listens on no TCP address
PG_USER = "bench"         # the cluster's superuser (initdb -U), trust authentication
# `\u0000` in JSON text, not itself escaped (preceded by an even number of backslashes).
NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def lit(s):
    """An SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def jlit(obj):
    """A jsonb literal."""
    return lit(json.dumps(obj, separators=(",", ":"))) + "::jsonb"


def pg_queries(pid, family, given, code, cond):
    """The ten searches of queries() and its three counts as SQL, in the same order.

    Each is a dict: `where` (over `resources r`, or over `frm` when given), optional `order`
    and `limit`; the page returns the resources' JSON (r.body), the closest equivalent of the
    Bundle's entries. String searches are written as exact containment (a DIY table has no
    normalised index); the result check below shows whether that gives Vesta's matches here.
    """
    subject = {"subject": {"reference": "Patient/" + pid}}
    obs_code = {"code": {"coding": [{"system": code[0], "code": code[1]}]}}
    cond_code = {"code": {"coding": [{"system": cond[0], "code": cond[1]}]}}
    obs_date = "(r.body->>'effectiveDateTime')::timestamptz"  # the generator writes only this
    by_family = "p.body @> %s" % jlit({"name": [{"family": family}]})
    clinical = [
        # Patient?family=&given= (two conditions: each may match any of the names)
        dict(where="r.type = 'Patient' AND r.body @> %s AND r.body @> %s" % (
            jlit({"name": [{"family": family}]}), jlit({"name": [{"given": [given]}]})),
            limit=VESTA_DEFAULT_PAGE),
        # Patient?gender=female&birthdate=ge1980-01-01&_count=20
        dict(where="r.type = 'Patient' AND r.body @> %s AND (r.body->>'birthDate')::date >= "
                   "'1980-01-01'" % jlit({"gender": "female"}), limit=20),
        # Observation?patient=&code=&_sort=-date&_count=20
        dict(where="r.type = 'Observation' AND r.body @> %s" % jlit(dict(subject, **obs_code)),
             order="%s DESC NULLS LAST" % obs_date, limit=20),
        # Observation?patient=&date=ge2024-01-01 (Vesta: dates without a zone are UTC)
        dict(where="r.type = 'Observation' AND r.body @> %s AND %s >= '2024-01-01T00:00:00Z'"
                   % (jlit(subject), obs_date), limit=VESTA_DEFAULT_PAGE),
        # Condition?patient=
        dict(where="r.type = 'Condition' AND r.body @> %s" % jlit(subject),
             limit=VESTA_DEFAULT_PAGE),
        # Encounter?patient=&_sort=-date&_count=10 (descending: the period's end, its highest)
        dict(where="r.type = 'Encounter' AND r.body @> %s" % jlit(subject),
             order="(r.body->'period'->>'end')::timestamptz DESC NULLS LAST", limit=10),
        # Patient/{id}/Immunization (the compartment's link for Immunization is `patient`)
        dict(where="r.type = 'Immunization' AND r.body @> %s"
                   % jlit({"patient": {"reference": "Patient/" + pid}}),
             limit=VESTA_DEFAULT_PAGE),
        # Observation?code=&date=ge2025-01-01&_count=50
        dict(where="r.type = 'Observation' AND r.body @> %s AND %s >= '2025-01-01T00:00:00Z'"
                   % (jlit(obs_code), obs_date), limit=50),
        # Observation?subject:Patient.family=&code=&_count=20: from the patients found by name,
        # one containment probe each (with `r.body->'subject'->>'reference' IN (SELECT ...)`
        # PostgreSQL reads every Observation with the code: 20.6 ms against 0.4 ms in EXPLAIN
        # ANALYZE at 1,000 patients).
        dict(frm="resources p JOIN resources r ON r.body @> (jsonb_build_object('subject', "
                 "jsonb_build_object('reference', 'Patient/' || p.id)) || %s)" % jlit(obs_code),
             where="p.type = 'Patient' AND %s AND r.type = 'Observation'" % by_family, limit=20),
        # Patient?_has:Condition:subject:code=&_count=20
        dict(where="r.type = 'Patient' AND r.id IN (SELECT split_part(c.body->'subject'->>"
                   "'reference', '/', 2) FROM resources c WHERE c.type = 'Condition' AND "
                   "c.body @> %s AND c.body->'subject'->>'reference' LIKE 'Patient/%%')"
                   % jlit(cond_code), limit=20),
    ]
    counts = [
        dict(where="r.type = 'Observation' AND r.body @> %s" % jlit(obs_code)),
        dict(where="r.type = 'Observation' AND %s >= '2024-01-01T00:00:00Z'" % obs_date),
        dict(where="r.type = 'Patient' AND r.body @> %s" % jlit({"gender": "female"})),
    ]
    return clinical, counts


def pg_sql(spec, select="r.body"):
    s = "SELECT %s FROM %s WHERE %s" % (select, spec.get("frm", "resources r"), spec["where"])
    if spec.get("order"):
        s += " ORDER BY " + spec["order"]
    if spec.get("limit"):
        s += " LIMIT %d" % spec["limit"]
    return s


def pg_count_sql(spec):
    return "SELECT count(*) FROM %s WHERE %s" % (spec.get("frm", "resources r"), spec["where"])


def find_pg_bindir(given):
    """The directory of initdb, pg_ctl, postgres, psql and pgbench, or (None, reason)."""
    if given:
        cands = [given]
    else:
        cands = []
        w = shutil.which("initdb")
        if w:
            cands.append(os.path.dirname(os.path.realpath(w)))
        # Debian keeps the server programs out of PATH, one directory per major version.
        debian = glob.glob("/usr/lib/postgresql/*/bin")
        debian.sort(key=lambda d: int(re.sub(r"\D", "", d.split("/")[-2]) or 0), reverse=True)
        cands += debian
    need = ("initdb", "pg_ctl", "postgres", "psql", "pgbench")
    for d in cands:
        if all(os.access(os.path.join(d, x), os.X_OK) for x in need):
            return d, None
    return None, ("PostgreSQL binaries (%s) not found%s; install Debian's `postgresql` "
                  "(scripts/install-deps.sh) or pass --pg-bindir" %
                  (", ".join(need), " in " + given if given else ""))


def server_account():
    """The account the PostgreSQL server runs as: None (the caller) unless the caller is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise RuntimeError("running as root and neither a `postgres` nor a `nobody` account exists "
                       "to run the PostgreSQL server as")


def reachable(path, acct):
    """Whether every directory down to `path` can be traversed by `acct`."""
    p = os.path.abspath(path)
    while True:
        st = os.stat(p)
        if not (st.st_mode & 0o001 or (st.st_uid == acct.pw_uid and st.st_mode & 0o100)
                or (st.st_gid == acct.pw_gid and st.st_mode & 0o010)):
            return False
        if p == os.path.dirname(p):
            return True
        p = os.path.dirname(p)


class Postgres:
    """A throw-away cluster in `base`: initdb, pg_ctl start (unix socket only), pg_ctl stop."""

    def __init__(self, bindir, base, acct):
        self.bindir, self.base, self.acct = bindir, base, acct
        self.data = os.path.join(base, "data")
        self.scratch = os.path.join(base, "pgbench")
        os.makedirs(self.scratch, exist_ok=True)
        # The server's own account (root only): the switch happens in the child, before exec.
        self.as_server = {}
        if acct is not None:
            os.chown(base, acct.pw_uid, acct.pw_gid)
            self.as_server = dict(user=acct.pw_uid, group=acct.pw_gid, extra_groups=[])
        # No PGHOST, PGOPTIONS, ... of the caller's: every connection parameter is given.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self.env["TZ"] = "UTC"
        self.settings = []
        self.version = ""

    def bin(self, name):
        return os.path.join(self.bindir, name)

    def server_cmd(self, args, timeout):
        r = subprocess.run(args, cwd=self.base, env=self.env, capture_output=True, text=True,
                           timeout=timeout, **self.as_server)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (os.path.basename(args[0]),
                                                  (r.stdout + r.stderr).strip()[-2000:]))
        return r.stdout

    def start(self, shared_buffers_mb, extra=()):
        self.version = subprocess.run([self.bin("postgres"), "--version"], capture_output=True,
                                      text=True, timeout=30).stdout.strip()
        # --no-sync: initdb does not fsync its template files (the server's fsync stays on).
        self.server_cmd([self.bin("initdb"), "-D", self.data, "-U", PG_USER, "-A", "trust",
                         "-E", "UTF8", "--no-locale", "--no-sync"], timeout=300)
        # Durability settings (fsync, synchronous_commit, full_page_writes, wal_level) are the
        # defaults. What a read benchmark needs: the data in shared buffers (as Vesta's page
        # cache holds its), no JIT compilation of short OLTP queries, and a load that is not
        # slowed by checkpoints or a small sort memory for the index build.
        self.settings = [
            ("listen_addresses", ""),
            ("unix_socket_directories", self.base),
            ("port", str(PG_PORT)),
            ("shared_buffers", "%dMB" % shared_buffers_mb),
            ("jit", "off"),
            ("maintenance_work_mem", "512MB"),
            ("max_wal_size", "4GB"),
            ("timezone", "UTC"),
        ] + list(extra)  # (name, value) pairs of a caller's own
        opts = " ".join("-c " + shlex.quote("%s=%s" % kv) for kv in self.settings)
        # pg_ctl hands -o to /bin/sh, hence the quoting; -w -t: wait for the socket, bounded.
        self.server_cmd([self.bin("pg_ctl"), "-D", self.data, "-l",
                         os.path.join(self.base, "server.log"), "-w", "-t", "120", "-o", opts,
                         "start"], timeout=180)

    def stop(self):
        pidfile = os.path.join(self.data, "postmaster.pid")
        if not os.path.exists(pidfile):
            return
        try:
            self.server_cmd([self.bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "-t",
                             "60", "stop"], timeout=90)
            return
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            log("pg_ctl stop: %s" % e)
        # Still up: the postmaster we started (its pid is the file's first line), immediate.
        try:
            pid = int(open(pidfile).readline())
        except (OSError, ValueError):
            return
        for sig, wait in ((signal.SIGQUIT, 30), (signal.SIGKILL, 10)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.2)

    def conn(self):
        return ["-h", self.base, "-p", str(PG_PORT), "-U", PG_USER]

    def psql_cmd(self, statements, db="postgres"):
        cmd = [self.bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"] + self.conn()
        for s in statements:
            cmd += ["-c", s]
        return cmd + [db]

    def psql(self, *statements, timeout=3600, db="postgres"):
        r = subprocess.run(self.psql_cmd(statements, db), env=self.env, capture_output=True,
                           timeout=timeout, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr.strip()[-2000:])
        return r.stdout

    def copy_ndjson(self, path):
        """COPY one NDJSON file into `staging`; the number of lines that had to be changed."""
        # One JSON document a line: CSV with a quote and a delimiter that JSON text never
        # contains raw, so each line is one field, taken verbatim. jsonb cannot hold U+0000
        # (`\u0000` in JSON text): such an escape is loaded as U+FFFD and the line counted.
        copy = ("COPY staging (body) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', "
                "DELIMITER E'\\x02')")
        changed = 0
        with tempfile.TemporaryFile() as err, open(path, "rb") as f:
            p = subprocess.Popen(self.psql_cmd([copy]), env=self.env, stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=err)
            try:
                for line in f:
                    if b"\\u0000" in line:
                        fixed = NUL_ESCAPE.sub(rb"\1\\ufffd", line)
                        changed += fixed != line
                        line = fixed
                    p.stdin.write(line)
                p.stdin.close()
            except BrokenPipeError:
                pass  # psql stopped reading: its error is below
            finally:
                try:
                    rc = p.wait(timeout=3600)
                except subprocess.TimeoutExpired:
                    p.kill()
                    raise
            if rc != 0:
                err.seek(0)
                raise RuntimeError("psql COPY of %s: %s" % (
                    path, err.read().decode(errors="replace").strip()[-2000:]))
        return changed

    def load(self, pop):
        """COPY every NDJSON file of `pop`, then the indexes and VACUUM ANALYZE."""
        t0 = time.monotonic()
        self.psql("CREATE UNLOGGED TABLE staging (body jsonb)",
                  "CREATE TABLE resources (id text NOT NULL, type text NOT NULL, "
                  "body jsonb NOT NULL)")
        nul_lines = sum(self.copy_ndjson(os.path.join(pop, f))
                        for f in sorted(os.listdir(pop)) if f.endswith(".ndjson"))
        if nul_lines:
            log("PostgreSQL: %d resource(s) with \\u0000 in a string loaded with U+FFFD "
                "instead" % nul_lines)
        self.psql("INSERT INTO resources SELECT body->>'id', body->>'resourceType', body "
                  "FROM staging", "DROP TABLE staging")
        t1 = time.monotonic()
        self.psql("CREATE INDEX resources_body ON resources USING gin (body jsonb_path_ops)",
                  "CREATE INDEX resources_type_id ON resources (type, id)",
                  "VACUUM ANALYZE resources")
        t2 = time.monotonic()
        table, indexes = (int(x) for x in self.psql(
            "SELECT pg_table_size('resources'), pg_indexes_size('resources')").split("|"))
        return dict(copy_s=t1 - t0, index_s=t2 - t1, table_mb=table / 1e6,
                    index_mb=indexes / 1e6, nul_lines=nul_lines)

    def pgbench(self, sql, connections, duration, tag, db="postgres", script=None):
        """pgbench -T over one query (or, with `script`, a whole pgbench script: one transaction
        of it is one count): (queries/s, mean ms, p50 ms, p99 ms)."""
        qfile = os.path.join(self.scratch, tag + ".sql")
        with open(qfile, "w") as f:
            f.write(script if script is not None else sql + ";\n")
        prefix = os.path.join(self.scratch, tag)
        for old in glob.glob(prefix + ".log*"):
            os.remove(old)
        cmd = [self.bin("pgbench"), "-n", "-M", "prepared", "-f", qfile, "-c", str(connections),
               "-j", str(min(2, connections)), "-T", str(duration), "-l",
               "--log-prefix=" + prefix + ".log"] + self.conn() + [db]
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                           timeout=duration + 300, cwd=self.scratch)
        m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", r.stdout)
        failed = re.search(r"number of failed transactions: (\d+)", r.stdout)
        if r.returncode != 0 or not m or (failed and int(failed.group(1))):
            raise RuntimeError("pgbench failed for %s: %s" % (tag, (r.stdout + r.stderr)[-2000:]))
        lat = []
        for path in glob.glob(prefix + ".log*"):
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        lat.append(int(parts[2]) / 1000.0)  # µs -> ms
            os.remove(path)
        mean = re.search(r"latency average = ([\d.]+) ms", r.stdout)

        return (float(m.group(1)), float(mean.group(1)) if mean else float("nan"),
                lib.percentile(lat, 0.50), lib.percentile(lat, 0.99))

    def explain(self, sql):
        return self.psql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)


def vesta_count_path(path):
    """The same search with _summary=count, without _sort and _count."""
    base, _, query = path.partition("?")
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)
             if k not in ("_count", "_sort", "_summary")]
    pairs.append(("_summary", "count"))
    return base + "?" + urllib.parse.urlencode(pairs, safe=":|,")


def check_same(pg, base, path, spec, bundle):
    """None when PostgreSQL's SQL gives Vesta's matches (count, and the page's ids where they
    are defined: in order when sorted, as a set when the whole result is on the page), else why
    not."""
    total = get_json(base + vesta_count_path(path))["total"]
    pg_total = int(pg.psql(pg_count_sql(spec)).strip())
    if total != pg_total:
        return "Vesta matches %d, PostgreSQL %d" % (total, pg_total)
    ids = [e["resource"]["id"] for e in bundle.get("entry", [])
           if e.get("search", {}).get("mode", "match") == "match"]
    pg_ids = pg.psql(pg_sql(spec, "r.id")).split()
    if len(ids) != len(pg_ids):
        return "page of %d on Vesta, %d on PostgreSQL" % (len(ids), len(pg_ids))
    if spec.get("order") and ids != pg_ids:
        return "the sorted pages differ"
    if len(ids) == total and set(ids) != set(pg_ids):
        return "the matches differ (same count)"
    return None


def pg_dir_for(workdir, n, acct):
    """Where the size's cluster lives: in the bench's work directory when the server's account
    can reach it and the socket path fits (sun_path: 107 bytes), else in a fresh temp dir."""
    d = os.path.join(os.path.abspath(workdir), "pg%d" % n)
    if len(d) + len("/.s.PGSQL.%d" % PG_PORT) < 100 and (acct is None or reachable(workdir, acct)):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d
    return tempfile.mkdtemp(prefix="vesta-search-pg-")




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
    ndjson_bytes = sum(os.path.getsize(os.path.join(pop, f))
                       for f in os.listdir(pop) if f.endswith(".ndjson"))
    import_s = float("nan")
    import_file = os.path.join(workdir, "import%d.txt" % n)  # for --reuse: the store's import
    if not reuse:
        log("import %d resources" % resources)
        t0 = time.monotonic()
        subprocess.run([args.vesta, "import", "--data-dir", data, pop], check=True,
                       timeout=7200, stdout=subprocess.DEVNULL)
        import_s = time.monotonic() - t0
        with open(import_file, "w") as f:
            f.write("%.3f\n" % import_s)
    elif os.path.exists(import_file):
        import_s = float(open(import_file).read())
    db_mb = os.path.getsize(os.path.join(data, "vesta.db")) / 1e6
    pid, family, given, code, cond = pick_sample(pop)
    rows, counts, pg_rows, pg_counts, pg_load = [], [], [], [], None
    pg = pg_dir = None
    try:
        if args.pg_bindir:
            pg_dir = pg_dir_for(workdir, n, args.pg_account)
            pg = Postgres(args.pg_bindir, pg_dir, args.pg_account)
            # Room for the table and its indexes (about 1.5x the NDJSON), in 128 MB steps.
            shared_mb = max(128, -(-2 * ndjson_bytes // (128 << 20)) * 128)
            log("PostgreSQL: initdb and start (shared_buffers %d MB)" % shared_mb)
            pg.start(shared_mb)
            log("PostgreSQL: COPY %d resources, indexes, VACUUM ANALYZE" % resources)
            pg_load = pg.load(pop)
        with lib.Server(args.vesta, data, ("--threads", "2")) as server:
            proc, base = server.proc, server.base
            clinical, summary = queries(pid, family, given, code, cond)
            sql_clinical, sql_counts = pg_queries(pid, family, given, code, cond)
            for name, path in clinical + summary:
                get_json(base + path)  # warm-up, and a check that it answers 200
            for i, ((name, path), spec) in enumerate(zip(clinical, sql_clinical)):
                differ = None
                if pg:
                    differ = check_same(pg, base, path, spec, get_json(base + path))
                    if differ:
                        log("WARNING: %s: PostgreSQL's SQL does not give Vesta's results (%s); "
                            "not measured" % (name, differ))
                    else:
                        pg.psql(pg_sql(spec))  # warm-up
                    if args.explain:
                        log(pg.explain(pg_sql(spec)))
                a, b, p50s, p99s, c, c50, c99, ratios = [], [], [], [], [], [], [], []
                for _ in range(args.repeats):
                    rps, p50, p99 = wrk(base + path, args.connections, args.duration)
                    quiesce(proc)
                    a.append(rps)
                    p50s.append(p50)
                    p99s.append(p99)
                    b.append(wrk(base + "/healthz", args.connections, args.duration)[0])
                    quiesce(proc)
                    if pg and not differ:
                        qps, _, q50, q99 = pg.pgbench(pg_sql(spec), args.connections,
                                                      args.duration, "q%d" % i)
                        c.append(qps)
                        c50.append(q50)
                        c99.append(q99)
                        ratios.append(rps / max(qps, 1e-9))
                matches = len(get_json(base + path).get("entry", []))
                rows.append((name, path, lib.median_spread(a), statistics.median(p50s),
                             statistics.median(p99s),
                             statistics.median(a) / statistics.median(b)
                             if statistics.median(b) > 0 else None, matches))
                if pg:
                    pg_rows.append(dict(name=name, differ=differ, a=lib.median_spread(a),
                                        c=lib.median_spread(c) if c else None,
                                        p50=statistics.median(c50) if c else None,
                                        p99=statistics.median(c99) if c else None,
                                        ratio=lib.median_spread(ratios) if c else None))
                log("  %-45s %8.0f req/s%s" % (name, statistics.median(a),
                                                "   PostgreSQL %8.0f q/s" % statistics.median(c)
                                                if c else ""))
            for i, ((name, path), spec) in enumerate(zip(summary, sql_counts)):
                total = get_json(base + path)["total"]
                differ = None
                if pg:
                    pg_total = int(pg.psql(pg_count_sql(spec)).strip())  # also the warm-up
                    if pg_total != total:
                        differ = "Vesta counts %d, PostgreSQL %d" % (total, pg_total)
                        log("WARNING: %s: %s; not measured" % (name, differ))
                    if args.explain:
                        log(pg.explain(pg_count_sql(spec)))
                a, c, ratios = [], [], []
                for _ in range(args.repeats):
                    a.append(wrk(base + path, args.connections, args.duration)[0])
                    quiesce(proc)
                    if pg and not differ:
                        c.append(pg.pgbench(pg_count_sql(spec), args.connections, args.duration,
                                            "c%d" % i)[0])
                        ratios.append(a[-1] / max(c[-1], 1e-9))
                counts.append((name, total, lib.median_spread(a), total * statistics.median(a)))
                if pg:
                    pg_counts.append(dict(name=name, differ=differ, total=total,
                                          c=lib.median_spread(c) if c else None,
                                          ratio=lib.median_spread(ratios) if c else None))
                log("  %-45s %8.0f matched/s" % (name, total * statistics.median(a)))
    finally:
        if pg:
            pg.stop()
        if pg_dir:
            shutil.rmtree(pg_dir, ignore_errors=True)
    return dict(n=n, resources=resources, import_s=import_s, db_mb=db_mb, rows=rows,
                counts=counts, ndjson_mb=ndjson_bytes / 1e6, pg_load=pg_load, pg_rows=pg_rows,
                pg_counts=pg_counts, pg_settings=pg.settings if pg else [],
                pg_version=pg.version if pg else "")


def fmt_ratio(r, vesta_rps):
    if vesta_rps <= 0:
        return "n/a (no Vesta response within the run)"
    m, lo, hi = r
    return "**%.2f** (%.2f-%.2f)" % (m, lo, hi)


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
                    help="reuse populations and stores already in --workdir (import times: "
                         "those recorded by the run that made them)")
    ap.add_argument("--no-postgres", action="store_true",
                    help="skip the PostgreSQL JSONB baseline")
    ap.add_argument("--pg-bindir", default=None,
                    help="directory of initdb, pg_ctl, postgres, psql and pgbench")
    ap.add_argument("--explain", action="store_true",
                    help="log EXPLAIN ANALYZE of every PostgreSQL query to stderr")
    args = ap.parse_args()
    args.generator = args.generator or args.vesta
    pg_skip = None
    if args.no_postgres:
        pg_skip = "--no-postgres"
        args.pg_bindir = None
    else:
        args.pg_bindir, pg_skip = find_pg_bindir(args.pg_bindir)
    args.pg_account = None
    if args.pg_bindir:
        args.pg_account = server_account()
    if pg_skip:
        log("PostgreSQL baseline skipped: %s" % pg_skip)
    with lib.work_dir("vesta-search-bench-", keep=args.workdir) as workdir:
        if args.pg_account is not None and not args.workdir:
            os.chmod(workdir, 0o711)  # the server's account may pass through, not list it
        results = [run_size(args, int(n), workdir) for n in args.sizes.split(",")]

    print("Populations (`vesta generate --seed 7`, loaded with `vesta import`, indexed at write "
          "time):\n")
    print("| patients | resources | NDJSON (MB) | import (s) | resources/s imported | "
          "vesta.db (MB) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        imp = r["import_s"]
        print("| %d | %d | %.0f | %s | %s | %.0f |" % (
            r["n"], r["resources"], r["ndjson_mb"], "%.0f" % imp if imp == imp else "n/a",
            "%.0f" % (r["resources"] / imp) if imp == imp else "n/a", r["db_mb"]))
    if args.reuse:
        print("\n(`--reuse`: the stores, and their import times, are from the run that made "
              "them.)")
    pg_on = bool(results and results[0]["pg_load"])
    if pg_skip:
        print("\nPostgreSQL baseline skipped: %s." % pg_skip)
    elif pg_on:
        r0 = results[0]
        print("\nBaseline: %s, the same NDJSON loaded with `COPY` into one table "
              "`resources(id text, type text, body jsonb)` with `GIN (body jsonb_path_ops)` and a "
              "btree on `(type, id)`, then `VACUUM ANALYZE` -- the common do-it-yourself design. "
              "A throw-away cluster (initdb, trust, unix socket only) with the default durability "
              "settings (fsync, synchronous_commit, full_page_writes) and: %s; shared_buffers "
              "is twice the NDJSON (rounded up to 128 MB), so the table and indexes stay in memory "
              "as Vesta's database stays in the page cache.\n" % (
                  r0["pg_version"], ", ".join(
                      "`%s=%s`" % (k, v) for k, v in r0["pg_settings"]
                      if k not in ("unix_socket_directories", "port", "shared_buffers"))))
        print("| patients | COPY (s) | indexes + VACUUM ANALYZE (s) | table (MB) | indexes (MB) "
              "| shared_buffers |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in results:
            sb = dict(r["pg_settings"]).get("shared_buffers", "")
            print("| %d | %.0f | %.0f | %.0f | %.0f | %s |" % (
                r["n"], r["pg_load"]["copy_s"], r["pg_load"]["index_s"],
                r["pg_load"]["table_mb"], r["pg_load"]["index_mb"], sb))
        for r in results:
            if r["pg_load"]["nul_lines"]:
                print("\n%d patients: %d resource(s) had `\\u0000` in a string (the generator "
                      "wrote it), which jsonb cannot store: loaded into PostgreSQL with U+FFFD in "
                      "its place." % (r["n"], r["pg_load"]["nul_lines"]))
        print("\nEach search is hand-written in SQL (`pg_queries()` in bench/search/"
              "search_bench.py: containment `@>` on the GIN index for tokens, references and "
              "names, casts of extracted values for date ranges and sort keys, a join probing the "
              "GIN index once per patient for the chain, an `IN` subquery on the (type, id) "
              "btree for `_has`) and returns the page's resources as JSON. Before it is "
              "measured, its result is checked against Vesta's (the count, and the page's ids "
              "where they are defined); a search whose results differ gets a warning and no "
              "ratio. pgbench -M prepared with the same connections, 2 threads and duration as "
              "wrk, run after each wrk pair. **Not the same work:** Vesta's figure includes "
              "HTTP, its search and a searchset Bundle serialized as JSON; PostgreSQL's is the "
              "SQL query over a unix socket, returning the rows (the resources' JSON text) to "
              "pgbench, which discards them.")
    for r in results:
        print("\n%d patients: wrk %ds, %d connections, median of %d (min-max); baseline GET "
              "/healthz alternated with each query.\n" % (r["n"], args.duration,
                                                          args.connections, args.repeats))
        print("| query | matches (page) | req/s | p50 ms | p99 ms | / healthz |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, path, (m, lo, hi), p50, p99, ratio, matches in r["rows"]:
            print("| %s `%s` | %d | %.0f (%.0f-%.0f) | %.2f | %.2f | %s |" %
                  (name, path, matches, m, lo, hi, p50, p99,
                   "%.3f" % ratio if ratio is not None else "n/a"))
        if pg_on:
            print("\n%d patients against PostgreSQL (pgbench %ds, %d connections, alternated "
                  "with the runs above; ratio: median and min-max of the paired runs' "
                  "Vesta req/s / PostgreSQL queries/s):\n" % (r["n"], args.duration,
                                                             args.connections))
            print("| query | Vesta req/s | PostgreSQL queries/s | PG p50 ms | PG p99 ms | "
                  "Vesta / PostgreSQL |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            for row in r["pg_rows"]:
                if row["differ"]:
                    print("| %s | %.0f | results differ: %s | | | n/a |" % (
                        row["name"], row["a"][0], row["differ"]))
                    continue
                print("| %s | %.0f | %.0f (%.0f-%.0f) | %.2f | %.2f | %s |" % (
                    row["name"], row["a"][0], row["c"][0], row["c"][1], row["c"][2],
                    row["p50"], row["p99"], fmt_ratio(row["ratio"], row["a"][0])))
            for row in r["pg_rows"]:
                if row["differ"]:
                    print("\n**Warning:** %s: PostgreSQL's SQL does not give Vesta's results "
                          "(%s); no ratio." % (row["name"], row["differ"]))
        print("\n| _summary=count | total | req/s | resources matched/s |%s" % (
            " PostgreSQL count(*)/s | PG resources matched/s | Vesta / PostgreSQL |"
            if pg_on else ""))
        print("| --- | ---: | ---: | ---: |%s" % (" ---: | ---: | ---: |" if pg_on else ""))
        for k, (name, total, (m, lo, hi), per_s) in enumerate(r["counts"]):
            extra = ""
            if pg_on:
                pc = r["pg_counts"][k]
                if pc["differ"]:
                    extra = " results differ: %s | | n/a |" % pc["differ"]
                else:
                    extra = " %.0f (%.0f-%.0f) | %.3g | %s |" % (
                        pc["c"][0], pc["c"][1], pc["c"][2], total * pc["c"][0],
                        fmt_ratio(pc["ratio"], m))
            print("| %s | %d | %.0f (%.0f-%.0f) | %.3g |%s" % (name, total, m, lo, hi, per_s,
                                                              extra))
    if len(results) == 2:
        small, big = results
        print("\nCost growth %d → %d patients (median req/s ratio small/big; 1.0 = flat):\n" %
              (small["n"], big["n"]))
        if pg_on:
            print("| query | %d req/s | %d req/s | ratio | PostgreSQL %d q/s | PostgreSQL %d q/s "
                  "| PostgreSQL ratio |" % (small["n"], big["n"], small["n"], big["n"]))
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        else:
            print("| query | %d req/s | %d req/s | ratio |" % (small["n"], big["n"]))
            print("| --- | ---: | ---: | ---: |")
        for k, (a, b) in enumerate(zip(small["rows"], big["rows"])):
            ratio = "%.2f" % (a[2][0] / b[2][0]) if b[2][0] > 0 else "n/a (none in the run)"
            extra = ""
            if pg_on:
                pa, pb = small["pg_rows"][k]["c"], big["pg_rows"][k]["c"]
                if pa and pb:
                    extra = " %.0f | %.0f | %.2f |" % (pa[0], pb[0], pa[0] / max(pb[0], 1e-9))
                else:
                    extra = " | | n/a (results differ) |"
            print("| %s | %.0f | %.0f | %s |%s" % (a[0], a[2][0], b[2][0], ratio, extra))


if __name__ == "__main__":
    main()
