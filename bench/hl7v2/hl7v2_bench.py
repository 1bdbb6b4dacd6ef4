#!/usr/bin/env python3
"""The HL7 v2 feed (docs/hl7v2.md, "The feed") against the FHIR transaction it maps to: messages/s
and ACK latency of ADT^A01 and ORU^R01 (10 OBX) over MLLP, each alternated with POSTing the
equivalent transaction Bundles to `/` over HTTP, at 1 and 16 connections. Target: MLLP / HTTP
>= 1.0 (the v2 path costs no more than the FHIR one).

Follows ../../../shared/design/BENCHMARKS.md: the baseline in the same run, alternated repeats
(MLLP HTTP MLLP HTTP ...) after an untimed warm-up of both, the median and min-max spread.

  messages   from the samples: ADT^A01 is ADT-A01-01.hl7 (v2.8, every segment the sample has:
             PID, PD1, NK1, PV1, PV2, DG1, AL1, PR1, GT1, IN1 ...; 15 entries when mapped, a
             Provenance included); ORU^R01 takes the header, PID and OBR
             of ORU-R01-RMGEAD.hl7 (v2.4) with ten NM OBX of a metabolic panel (UCUM units,
             reference ranges, abnormal flags). Each message of a pool is distinct: its own
             MSH-10, patient identifiers (PID-2, PID-3, PID-4), visit number (PV1-19), and for
             ORU placer and filler order numbers (OBR-2, OBR-3); the ADT^A01 also its own
             practitioners (PV1-7, 8, 9, 17, DG1-16), beds (PV1-3, PV1-6) and insurer (IN1-3):
             every entry of every Bundle is a create, not an update. With --shared, the ADT^A01
             alone, keeping the sample's practitioners, beds and insurer in every message (each
             message updates them: a feed's contention on shared resources). Segments end with
             CR.
  bundles    `vesta hl7v2 map` of every message of the pool: the very Bundle the feed applies.
  server     `vesta serve --auth off --port 0 --mllp-port 0` (SQLite, default durability) in a
             fresh data directory for every measured run, both paths the same server command.
             Before the load, one priming message of the pool (not counted) goes through the
             path under test alone, so that with --shared the shared resources exist, as in a
             feed that has been running: on an empty store, concurrent first conditional PUTs of
             the same resource can each create it, and every later message that matches the
             duplicates fails with 412 (--shared --no-prime shows it; bench/hl7v2/NOTES.md).
  load       hl7v2_load (bench/hl7v2/hl7v2_load.cc): N threads, one connection each, one payload
             at a time waiting for its answer (ACK frame / HTTP response); each payload of the
             pool is sent once per run; a run lasts --duration seconds or until the pool is used
             up. Every ACK must be AA and every HTTP status 200: a run with a failure is
             reported and is not a valid figure.

Usage: bench/hl7v2/hl7v2_bench.py --vesta build/vesta [--loadgen build/bench/hl7v2/hl7v2_load]
           [--repeats 3] [--duration 4] [--connections 1,16] [--pool N] [--messages DIR]
           [--shared] [--no-prime] [--workdir DIR]
Prints a Markdown section on stdout; progress goes to stderr.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
import lib  # noqa: E402

TARGET = 1.0
ADT_SHARED = "ADT^A01, shared practitioners"
POOL_MAX = 20000  # messages per type: the pool is mapped once, beforehand
LOAD_TIMEOUT_S = 120  # beyond --duration: the load generator's own socket timeouts are 30 s

# The ORU^R01's ten results: LOINC code, name, value, UCUM unit, reference range, flag.
PANEL = [
    ("2345-7", "Glucose", "105", "mg/dL", "70-99", "H"),
    ("3094-0", "Urea nitrogen", "14", "mg/dL", "7-20", "N"),
    ("2160-0", "Creatinine", "0.9", "mg/dL", "0.6-1.2", "N"),
    ("2951-2", "Sodium", "139", "mmol/L", "136-145", "N"),
    ("2823-3", "Potassium", "3.3", "mmol/L", "3.5-5.1", "L"),
    ("2075-0", "Chloride", "101", "mmol/L", "98-107", "N"),
    ("2028-9", "Carbon dioxide", "25", "mmol/L", "22-29", "N"),
    ("17861-6", "Calcium", "9.4", "mg/dL", "8.5-10.2", "N"),
    ("2885-2", "Protein", "7.1", "g/dL", "6.0-8.3", "N"),
    ("1751-7", "Albumin", "4.2", "g/dL", "3.5-5.0", "N"),
]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def git(*a):
    return subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT).stdout.strip()


# ---- messages ---------------------------------------------------------------------------------

def segments(path):
    """The segments of a sample file (byte order mark and any line ends removed)."""
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    return [s for s in re.split(r"\r\n|\r|\n", text) if s.strip()]


def set_field(seg, n, value, comp=1):
    """`seg` with component `comp` of the first repetition of field n set to `value` (MSH-n
    counts the field separator as MSH-1)."""
    f = seg.split("|")
    idx = n - 1 if f[0] == "MSH" else n
    while len(f) <= idx:
        f.append("")
    reps = f[idx].split("~")
    c = reps[0].split("^")
    while len(c) < comp:
        c.append("")
    c[comp - 1] = value
    reps[0] = "^".join(c)
    f[idx] = "~".join(reps)
    return "|".join(f)


def set_rep(seg, n, rep, value):
    """`seg` with the first component of repetition `rep` (0-based) of field n set to `value`."""
    f = seg.split("|")
    reps = f[n].split("~")
    if rep < len(reps):
        c = reps[rep].split("^")
        c[0] = value
        reps[rep] = "^".join(c)
    f[n] = "~".join(reps)
    return "|".join(f)


def adt_a01(template, i, tag, shared=False):
    """The sample with this message's own identifiers; also its own practitioners (PV1-7, 8, 9,
    17, DG1-16), beds (PV1-3, PV1-6) and insurer (IN1-3) unless `shared` keeps the sample's,
    which every message then updates."""
    out = []
    for s in template:
        kind = s[:3]
        if kind == "MSH":
            s = set_field(s, 10, "%s-A01-%d" % (tag, i))
        elif kind == "PID":
            s = set_field(s, 2, "P2-%d" % i)
            s = set_rep(s, 3, 0, "PAT%s%d" % (tag, i))
            s = set_rep(s, 3, 1, "%09d" % i)
            s = set_field(s, 4, "PA4-%d" % i)
        elif kind == "PV1":
            s = set_field(s, 19, "V%s%d" % (tag, i))
            if not shared:
                for n in (7, 8, 9, 17):
                    s = set_field(s, n, "D%d-%s%d" % (n, tag, i))
                s = set_field(s, 3, "Bed %s%d" % (tag, i), 3)
                s = set_field(s, 6, "B%s%d" % (tag, i), 3)
        elif kind == "DG1" and not shared:
            s = set_field(s, 16, "DG%s%d" % (tag, i))
        elif kind == "IN1" and not shared:
            s = set_field(s, 3, "IC%s%d" % (tag, i))
        out.append(s)
    return "\r".join(out) + "\r"


def oru_r01(template, i, tag):
    head = [s for s in template if s[:3] in ("MSH", "PID", "OBR")]
    out = []
    for s in head:
        kind = s[:3]
        if kind == "MSH":
            s = set_field(s, 10, "%s-R01-%d" % (tag, i))
        elif kind == "PID":
            s = set_field(s, 3, "MRN%s%d" % (tag, i))
        elif kind == "OBR":
            s = set_field(s, 2, "PL%s%d" % (tag, i))
            s = set_field(s, 3, "FI%s%d" % (tag, i))
            s = set_field(s, 4, "24323-8", 1)
            s = set_field(s, 4, "Comprehensive metabolic panel", 2)
            s = set_field(s, 4, "LN", 3)
        out.append(s)
        if kind == "OBR":
            for k, (code, name, value, unit, rng, flag) in enumerate(PANEL, 1):
                out.append("OBX|%d|NM|%s^%s^LN||%s|%s^^UCUM|%s|%s|||F|||20020215073000+0600" % (
                    k, code, name, value, unit, rng, flag))
    return "\r".join(out) + "\r"


def map_one(vesta, path):
    r = subprocess.run([vesta, "hl7v2", "map", path], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("vesta hl7v2 map %s: %s" % (path, r.stderr[-500:]))
    bundle = json.loads(r.stdout)  # compact again: one record of the payload file
    return json.dumps(bundle, separators=(",", ":"))


def make_pool(vesta, work, kind, template, start, count, tag):
    """Writes `count` distinct messages of `kind` (numbered from `start`; ADT_SHARED is the
    ADT^A01 with the sample's practitioners, beds and insurer) and the Bundles they map to;
    returns (messages, bundles), lists of str."""
    d = os.path.join(work, "msg-%s" % re.sub(r"\W", "", kind))
    os.makedirs(d, exist_ok=True)
    messages, paths = [], []
    for i in range(start, start + count):
        m = oru_r01(template, i, tag) if kind == "ORU^R01" else adt_a01(
            template, i, tag, shared=kind != "ADT^A01")
        p = os.path.join(d, "%d.hl7" % i)
        with open(p, "w", newline="") as f:
            f.write(m)
        messages.append(m)
        paths.append(p)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        bundles = list(ex.map(lambda p: map_one(vesta, p), paths))
    for p in paths:
        os.remove(p)
    return messages, bundles


def write_payloads(path, items):
    """The load's payload file (NUL-separated) from items[1:], and items[0] alone in the priming
    file next to it (path + ".prime")."""
    with open(path + ".prime", "w", newline="") as f:
        f.write(items[0])
    with open(path, "w", newline="") as f:
        f.write("\0".join(items[1:]))


# ---- the server and the load ------------------------------------------------------------------

class Server:
    """`vesta serve` with the MLLP listener, on ports the kernel picks. lib.Server reads the
    first line of the output for the port, which here is the MLLP line."""

    def __init__(self, vesta, data_dir):
        self.proc = subprocess.Popen(
            [vesta, "serve", "--listen", "127.0.0.1", "--port", "0", "--mllp-port", "0",
             "--data-dir", data_dir, "--auth", "off"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.pid = self.proc.pid
        lines, ready = [], threading.Event()

        def read():
            for line in self.proc.stdout:
                lines.append(line)
                if "listening on http" in line:
                    ready.set()
            ready.set()
        threading.Thread(target=read, daemon=True).start()
        ready.wait(lib.START_TIMEOUT_S)
        text = "".join(lines)
        m = re.search(r"MLLP listening on [^\s:]+:(\d+)", text)
        h = re.search(r"listening on http://[^\s:]+:(\d+)", text)
        if not (m and h):
            self.stop()
            raise RuntimeError("vesta serve --mllp-port 0 did not start: %r" % text[-300:])
        self.mllp_port, self.http_port = int(m.group(1)), int(h.group(1))

    def stop(self):
        lib.stop_process(self.proc)


def load(loadgen, mode, port, connections, duration, payloads):
    r = subprocess.run([loadgen, "--mode", mode, "--port", str(port), "--connections",
                        str(connections), "--duration", str(duration), "--payloads", payloads],
                       capture_output=True, text=True, timeout=duration + LOAD_TIMEOUT_S)
    m = re.search(r"sent=(\d+) ok=(\d+) failed=(\d+) seconds=([\d.]+) p50_ms=([\d.]+) "
                  r"p99_ms=([\d.]+) exhausted=(\d)", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError("hl7v2_load %s: %s" % (mode, (r.stdout + r.stderr)[-500:]))
    sent, ok, failed = int(m.group(1)), int(m.group(2)), int(m.group(3))
    secs = float(m.group(4))
    f = re.search(r"first_failure=(.*)", r.stdout)
    return dict(sent=sent, ok=ok, failed=failed, secs=secs, rate=ok / max(secs, 1e-9),
                p50=float(m.group(5)), p99=float(m.group(6)), exhausted=m.group(7) == "1",
                first_failure=f.group(1)[:300] if f else "")


def measure(vesta, loadgen, work, mode, connections, duration, payloads, name, prime=True):
    """One run on a fresh data directory: the priming message alone (`payloads` + ".prime"),
    then the load, and the server's CPU per message of the load."""
    data = os.path.join(work, "data-" + name)
    shutil.rmtree(data, ignore_errors=True)
    server = Server(vesta, data)
    try:
        port = server.mllp_port if mode == "mllp" else server.http_port
        if prime:
            p = load(loadgen, mode, port, 1, 60, payloads + ".prime")
            if p["ok"] != 1:
                raise RuntimeError("the priming %s message failed: %s" % (mode,
                                                                          p["first_failure"]))
        cpu0 = cpu_ms(server.pid)
        r = load(loadgen, mode, port, connections, duration, payloads)
        r["cpu"] = (cpu_ms(server.pid) - cpu0) / max(r["sent"], 1)
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    os.sync()
    return r


HZ = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / HZ


# ---- the run ----------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--loadgen", default=None,
                    help="hl7v2_load (default: bench/hl7v2/hl7v2_load next to --vesta)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=4, help="seconds per run")
    ap.add_argument("--connections", default="1,16")
    ap.add_argument("--pool", type=int, default=0,
                    help="messages per type (default: enough for twice the warm-up's best rate)")
    ap.add_argument("--messages", default=None, help="the HL7 v2 sample folder")
    ap.add_argument("--no-prime", action="store_true",
                    help="start the load on an empty store (see NOTES.md: concurrent first "
                    "creates of the shared resources)")
    ap.add_argument("--shared", action="store_true",
                    help="only ADT^A01 with the sample's practitioners, beds and insurer in "
                    "every message (each message updates them)")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    loadgen = os.path.abspath(args.loadgen or os.path.join(
        os.path.dirname(os.path.abspath(args.vesta)), "bench", "hl7v2", "hl7v2_load"))
    samples = args.messages or os.path.join(
        os.environ.get("VESTA_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data")),
        "hl7v2", "messages")
    if not os.path.exists(loadgen):
        print("Skipped: %s is not built (cmake --build build --target hl7v2_load)." %
              os.path.relpath(loadgen, ROOT))
        return
    if not os.path.isdir(samples):
        print("Skipped: the HL7 v2 samples are not there (VESTA_SHARED_DATA/hl7v2/messages).")
        return
    adt = segments(os.path.join(samples, "ADT-A01-01.hl7"))
    templates = {"ADT^A01": adt, "ORU^R01": segments(os.path.join(samples, "ORU-R01-RMGEAD.hl7"))}
    if args.shared:
        templates = {ADT_SHARED: adt}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    state = tree_state(args.vesta)
    res = {}
    t0 = time.monotonic()
    with lib.work_dir("vesta-hl7v2-bench-", keep=args.workdir) as work:
        # Every run uses one copy of the binary, taken now: a build directory rebuilt during the
        # run would otherwise measure two binaries.
        vesta = os.path.join(work, "vesta")
        shutil.copy2(args.vesta, vesta)
        for kind, template in templates.items():
            res[kind] = run_kind(args, vesta, loadgen, work, kind, template, conns)
    report(args, res, conns, started, state, time.monotonic() - t0)


def tree_state(vesta):
    dirty = git("status", "--porcelain", "--", "src", "CMakeLists.txt")
    return "commit %s%s, binary built %s UTC" % (
        git("rev-parse", "--short", "HEAD"), " + uncommitted changes in src/" if dirty else "",
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.path.getmtime(vesta))))


def run_kind(args, vesta, loadgen, work, kind, template, conns):
    tag = "B%d" % (os.getpid() % 10000)
    short = re.sub(r"\W", "", kind).lower()
    # Warm-up: a small pool at each connection count, both paths; the best rate sizes the pool.
    warm_n = 400 if args.pool == 0 else min(args.pool, 400)
    log("%s: mapping %d warm-up messages" % (kind, warm_n))
    msgs, bundles = make_pool(vesta, work, kind, template, 0, warm_n, tag)
    mllp_file = os.path.join(work, short + ".mllp")
    http_file = os.path.join(work, short + ".http")
    write_payloads(mllp_file, msgs)
    write_payloads(http_file, bundles)
    best, warm_failed = 0, []
    for c in conns:
        w1 = measure(vesta, loadgen, work, "mllp", c, 1, mllp_file, "warm", not args.no_prime)
        w2 = measure(vesta, loadgen, work, "http", c, 1, http_file, "warm", not args.no_prime)
        best = max(best, w1["rate"], w2["rate"])
        warm_failed += [(c, mode, w) for mode, w in (("mllp", w1), ("http", w2)) if w["failed"]]
        log("  warm-up, %d conn: MLLP %.0f/s (%d failed), HTTP %.0f/s (%d failed)" % (
            c, w1["rate"], w1["failed"], w2["rate"], w2["failed"]))
    pool = args.pool or int(min(POOL_MAX, max(warm_n, 2 * best * args.duration)))
    if pool > warm_n:
        log("%s: mapping %d more messages (pool %d)" % (kind, pool - warm_n, pool))
        m2, b2 = make_pool(vesta, work, kind, template, warm_n, pool - warm_n, tag)
        msgs += m2
        bundles += b2
        write_payloads(mllp_file, msgs)
        write_payloads(http_file, bundles)
    out = {"pool": len(msgs) - 1, "msg_bytes": statistics.median(len(m) for m in msgs),
           "bundle_bytes": statistics.median(len(b) for b in bundles),
           "entries": len(json.loads(bundles[0])["entry"]), "runs": {}, "warm": warm_failed}
    for c in conns:
        runs = {"mllp": [], "http": []}
        for k in range(args.repeats):
            for mode, path in (("mllp", mllp_file), ("http", http_file)):
                r = measure(vesta, loadgen, work, mode, c, args.duration, path,
                            "%s-%d-%d" % (mode, c, k), not args.no_prime)
                runs[mode].append(r)
            a, b = runs["mllp"][-1], runs["http"][-1]
            log("  %s %2d conn: MLLP %6.0f/s p99 %6.1f ms (%d failed)  HTTP %6.0f/s p99 %6.1f "
                "ms (%d failed)" % (kind, c, a["rate"], a["p99"], a["failed"], b["rate"],
                                    b["p99"], b["failed"]))
        out["runs"][c] = runs
    return out


# ---- the report -------------------------------------------------------------------------------

def report(args, res, conns, started, state, elapsed):
    p = print
    med = statistics.median
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
    p("Measured %s, %d cores (`nproc`), %s GiB memory (`free -g` total), load average %s at the "
      "end; vesta at %s. Server: `vesta serve --auth off --port 0 --mllp-port 0` (SQLite, "
      "default durability) in a fresh data directory for every run. Load: `hl7v2_load` "
      "(bench/hl7v2/hl7v2_load.cc), one thread and connection per sender, one message at a time "
      "waiting for its answer; MLLP runs alternated with HTTP runs (POST `/` of the Bundle "
      "`vesta hl7v2 map` gives for the same message), %d repeats of %g s after an untimed "
      "warm-up of both, median (min–max). Each message of a pool is distinct (control id, "
      "patient identifiers, visit number, order numbers%s), sent once per run, after %s." % (
          started, os.cpu_count(), mem.split()[1],
          " ".join(open("/proc/loadavg").read().split()[:3]), state, args.repeats,
          args.duration, "; the ADT^A01's practitioners, beds and insurer are the sample's in "
          "every message" if args.shared else "; the ADT^A01's practitioners, beds and insurer "
          "too: every Bundle entry is a create", "nothing (`--no-prime`: an empty store)" if args.no_prime else
          "one priming message through the same path, alone and not counted"))
    p("")
    p("Command: `bench/hl7v2/hl7v2_bench.py --vesta %s --repeats %d --duration %g "
      "--connections %s%s%s%s` (%.0f s)" % (
          os.path.relpath(args.vesta, ROOT) if args.vesta.startswith(ROOT) else args.vesta,
          args.repeats, args.duration, args.connections,
          " --pool %d" % args.pool if args.pool else "", " --shared" if args.shared else "",
          " --no-prime" if args.no_prime else "", elapsed))
    p("")
    p("| message | pool | message bytes | Bundle bytes | Bundle entries |")
    p("| --- | ---: | ---: | ---: | ---: |")
    for kind, r in res.items():
        p("| %s | %s | %s | %s | %d |" % (kind, lib.fmt_number(r["pool"]),
                                          lib.fmt_number(r["msg_bytes"]),
                                          lib.fmt_number(r["bundle_bytes"]), r["entries"]))
    p("")
    p("| message | connections | MLLP messages/s | HTTP transactions/s | MLLP p50 / p99 ms "
      "(send to ACK) | HTTP p50 / p99 ms | server CPU ms per message, MLLP → HTTP | "
      "MLLP / HTTP |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    targets, failures, exhausted = [], [], []
    for kind, r in res.items():
        for c in conns:
            runs = r["runs"][c]
            a = [x["rate"] for x in runs["mllp"]]
            b = [x["rate"] for x in runs["http"]]
            rel = [x / max(y, 1e-9) for x, y in zip(a, b)]
            targets.append((kind, c, rel))
            for mode in ("mllp", "http"):
                for x in runs[mode]:
                    if x["failed"]:
                        failures.append((kind, c, mode, x))
                    if x["exhausted"]:
                        exhausted.append((kind, c, mode))
            m = lambda mode, f: med(x[f] for x in runs[mode])  # noqa: E731
            p("| %s | %d | %s | %s | %.1f / %.1f | %.1f / %.1f | %.2f → %.2f | %s |" % (
                kind, c, lib.fmt_spread(a), lib.fmt_spread(b), m("mllp", "p50"),
                m("mllp", "p99"), m("http", "p50"), m("http", "p99"), m("mllp", "cpu"),
                m("http", "cpu"), lib.fmt_ratio(rel)))
    total = sum(len(runs[mode]) for r in res.values() for runs in r["runs"].values()
                for mode in runs)
    sent = sum(x["sent"] for r in res.values() for runs in r["runs"].values()
               for mode in runs for x in runs[mode])
    p("")
    if failures:
        p("**%d of %d runs had failures: their figures are not valid.**" % (len(failures), total))
        for kind, c, mode, x in failures:
            p("- %s, %d connections, %s: %d of %d failed; first: `%s`" % (
                kind, c, mode, x["failed"], x["sent"], x["first_failure"]))
    else:
        p("Every answer checked: %s messages in %d runs, every ACK `AA` and every HTTP "
          "status 200." % (lib.fmt_number(sent), total))
    warm = [(kind, c, mode, w) for kind, r in res.items() for c, mode, w in r["warm"]]
    if warm:
        p("")
        p("Failures in the (untimed) warm-up: %s." % "; ".join(
            "%s, %d connections, %s: %d of %d, first `%s`" % (
                kind, c, mode, w["failed"], w["sent"], w["first_failure"][:160])
            for kind, c, mode, w in warm))
    if exhausted:
        p("")
        p("Runs that used up their pool before the time was over (the rate is over the time "
          "they took): %s." % ", ".join("%s %d conn %s" % e for e in exhausted))
    p("")
    p("**Target** (median of the paired ratios, min–max):")
    p("")
    p("| target | ratio | needed | met |")
    p("| --- | ---: | ---: | --- |")
    for kind, c, rel in targets:
        mm, lo, hi = lib.median_spread(rel)
        p("| %s, %d connection%s: MLLP messages/s / HTTP transactions/s | %.2f (%.2f–%.2f) | "
          "≥ %.1f | %s |" % (kind, c, "" if c == 1 else "s", mm, lo, hi, TARGET,
                             "yes" if mm >= TARGET else "**no**"))


if __name__ == "__main__":
    main()
