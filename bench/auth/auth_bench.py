#!/usr/bin/env python3
"""The cost of SMART authorization (docs/security.md): the same server binary with `--auth off`
and with `--auth smart`, side by side in one run on one generated population, and the token
endpoint's rate against OpenSSL's own ES384 sign + verify.

Follows ../../../shared/design/BENCHMARKS.md: baselines in the same run, alternated repeats
after one untimed warm-up, the median and the min-max spread, wrk on loopback with a fixed
duration and connection count, CPU per request from /proc.

  population  `vesta generate --patients N --seed 7 --format ndjson`, `vesta import` into one
              data directory, copied byte for byte so that each server has its own store.
  token       the backend services flow, once: a client key pair (ES384, panva/jose through
              tests/integration/smart_client.mjs), `vesta auth client add --scope system/*.rs`,
              a client assertion POSTed to /auth/token; the access token it returns is the one
              every request to the smart server carries.
  requests    GET /Patient/<id> over random ids of the population, /Observation?patient=<id>
              &_count=10 and /Condition?patient=<id> cycling through patient ids: the server
              with --auth off --audit off alternated with the server with --auth smart and the
              audit trail on (every request with `Authorization: Bearer <token>`, and recorded):
              req/s, p50, p99, CPU ms per request, secured / open. Target: >= 0.85.
  endpoint    POST /auth/token with distinct pre-signed client assertions (a jti is used once),
              at most --assertions per run and --duration seconds, alternated with `openssl
              speed ecdsap384` (one ES384 verify of the assertion + one ES384 signature of the
              token is the endpoint's cryptographic floor): tokens/s, p50, p99, CPU ms per token.

Usage: bench/auth/auth_bench.py --vesta build/vesta [--patients 1000] [--repeats 3]
           [--duration 4] [--connections 32] [--assertions 20000] [--workdir DIR]
Prints a Markdown section on stdout (or one line saying why it was skipped); progress goes to
stderr.
"""
import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "search"))
import lib  # noqa: E402
import search_bench as sb  # noqa: E402

log = sb.log
CLIENT = os.path.join(ROOT, "tests", "integration", "smart_client.mjs")
CLIENT_ID = "bench"
SCOPE = "system/*.rs"
SAMPLE = 2000  # ids the read and search scripts go through
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 120  # the server accepts at most 300; a batch is used within seconds
HZ = os.sysconf("SC_CLK_TCK")

READ_LUA = """%s
local paths = {%s}
math.randomseed(%d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""

# Each connection takes the next patient id; the threads start at different places.
SEARCH_LUA = """%s
local ids = {%s}
local n = 0
local next_offset = 0
offset = 0
setup = function(thread)
  thread:set("offset", next_offset)
  next_offset = next_offset + 997
end
request = function()
  n = n + 1
  local id = ids[(offset + n) %% #ids + 1]
  return wrk.format("GET", string.format("%s", id))
end
"""

# The token endpoint: thread k of T takes the assertions on lines k, k+T, k+2T, ... of the file,
# each once; when its share is used up it stops (the request it writes then is never read).
# Every response's status is counted; done() prints the totals for the caller to check.
TOKEN_LUA = """
local threads = {}
local next_tid = 0
setup = function(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end
local bodies = {}
local i = 0
ok, other = 0, 0
init = function(args)
  local n = 0
  for line in io.lines("%s") do
    if n %% %d == tid and #line > 0 then
      bodies[#bodies + 1] = "grant_type=client_credentials&client_assertion_type=%s" ..
        "&client_assertion=" .. line
    end
    n = n + 1
  end
end
request = function()
  i = i + 1
  if i > #bodies then
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", "/auth/token",
    {["Content-Type"] = "application/x-www-form-urlencoded"}, bodies[i])
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
done = function(summary, latency, requests)
  local o, x = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    x = x + t:get("other")
  end
  io.write(string.format("token-responses ok %%d other %%d\\n", o, x))
end
"""


# ---- utilities --------------------------------------------------------------------------------

fmt = lib.fmt_number
ms = lib.fmt_spread
ratio = lib.fmt_ratio


def git(*a):
    return subprocess.run(["git", *a], capture_output=True, text=True, cwd=ROOT).stdout.strip()


def proc_cpu_ms(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / HZ


def children_cpu_ms():
    t = os.times()
    return (t.children_user + t.children_system) * 1000.0


def wrk_requests(r):
    m = re.search(r"(\d+) requests in", r["output"])
    return int(m.group(1)) if m else 0


def wrk_cpu(server, path, duration, connections, script):
    """lib.wrk with the CPU ms per request of the server and of wrk (r["cpu"], r["wrk_cpu"])."""
    s0, c0 = proc_cpu_ms(server.pid), children_cpu_ms()
    r = lib.wrk(server.url(path), duration, connections, script)
    n = max(wrk_requests(r), 1)
    r["cpu"] = (proc_cpu_ms(server.pid) - s0) / n
    r["wrk_cpu"] = (children_cpu_ms() - c0) / n
    return r


def node(*args, timeout=600):
    r = subprocess.run(["node", CLIENT, *args], capture_output=True, text=True, timeout=timeout,
                       cwd=ROOT)
    if r.returncode != 0:
        raise RuntimeError("node smart_client.mjs %s: %s" % (args[0], r.stderr[-500:]))
    return r.stdout


def post_form(url, fields):
    req = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(),
                                 method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def get(url, token=None):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token}
                                 if token else {})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.read()


def status_of(url, token=None):
    try:
        return get(url, token)[0]
    except urllib.error.HTTPError as e:
        return e.code


def openssl_es384():
    """(sign/s, verify/s) of `openssl speed -seconds 1 ecdsap384` (one core)."""
    out = subprocess.run(["openssl", "speed", "-seconds", "1", "ecdsap384"], capture_output=True,
                         text=True, timeout=120).stdout
    m = re.search(r"nistp384\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)", out)
    if not m:
        raise RuntimeError("no ecdsap384 line in openssl speed's output: %s" % out[-300:])
    return float(m.group(1)), float(m.group(2))


def skip_reason():
    if not shutil.which("node"):
        return "node is not installed"
    if not os.path.isdir(os.path.join(ROOT, "node_modules", "jose")):
        return "node_modules/jose is not installed (npm ci)"
    if not shutil.which("wrk"):
        return "wrk is not installed"
    return None


# ---- the run ----------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--assertions", type=int, default=20000,
                    help="at most this many client assertions per token endpoint run")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    why = skip_reason()
    if why:
        print("Skipped: %s." % why)
        return
    vesta = os.path.abspath(args.vesta)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    res = {}
    with lib.work_dir("vesta-auth-bench-", keep=args.workdir) as work:
        run(args, vesta, work, res)
    report(args, res, started)


def run(args, vesta, work, res):
    pop = os.path.join(work, "pop")
    log("generate %d patients" % args.patients)
    subprocess.run([vesta, "generate", "--patients", str(args.patients), "--seed", "7",
                    "--format", "ndjson", "--out", pop, "--quiet"], check=True, timeout=3600)
    files = [os.path.join(pop, f) for f in os.listdir(pop) if f.endswith(".ndjson")]
    res["resources"] = sum(sum(1 for _ in open(f)) for f in files)
    log("import")
    data_off = os.path.join(work, "data-off")
    data_smart = os.path.join(work, "data-smart")
    r = subprocess.run([vesta, "import", "--data-dir", data_off, pop], capture_output=True,
                       text=True, timeout=3600)
    if r.returncode != 0 or " 0 rejected" not in r.stdout:
        raise RuntimeError("vesta import: %s" % (r.stdout + r.stderr)[-1000:])
    shutil.copytree(data_off, data_smart)  # the same bytes: each server reads its own copy

    ids = [json.loads(line)["id"] for line in open(os.path.join(pop, "Patient.ndjson"))]
    sample = random.Random(7).sample(ids, min(SAMPLE, len(ids)))

    auth_dir = os.path.join(work, "auth")
    keys = os.path.join(work, "client")
    os.makedirs(keys)
    node("keygen", "ES384", keys)
    subprocess.run([vesta, "auth", "client", "add", "--auth-dir", auth_dir, "--client-id",
                    CLIENT_ID, "--scope", SCOPE, "--jwks", os.path.join(keys, "jwks.json")],
                   check=True, capture_output=True, timeout=60)

    with lib.Server(vesta, data_off, ("--audit", "off")) as off, \
            lib.Server(vesta, data_smart, ("--auth-dir", auth_dir, "--auth-rate-limit", "0"),
                       auth="smart") as smart:
        conf = json.loads(get(smart.url("/.well-known/smart-configuration"))[1])
        token_url = conf["token_endpoint"]
        if token_url != smart.url("/auth/token"):
            raise RuntimeError("token endpoint %s, expected %s" % (token_url,
                                                                   smart.url("/auth/token")))
        assertion = node("assertion", keys, CLIENT_ID, token_url).strip()
        answer = post_form(token_url, {"grant_type": "client_credentials",
                                       "client_assertion_type": JWT_BEARER,
                                       "client_assertion": assertion})
        token = answer["access_token"]
        res["granted"] = answer.get("scope")
        # The token is needed and enough; the server without authorization needs none.
        probe = "/Patient/" + sample[0]
        if status_of(smart.url(probe)) != 401 or status_of(smart.url(probe), token) != 200 \
                or status_of(off.url(probe)) != 200:
            raise RuntimeError("unexpected answers to GET %s on the two servers" % probe)

        header = 'wrk.headers["Authorization"] = "Bearer %s"' % token
        q = lambda xs: ",".join('"%s"' % x for x in xs)  # noqa: E731
        workloads = [
            ("read", "GET /Patient/<id>", lambda h: READ_LUA % (
                h, q("/Patient/" + i for i in sample), 7)),
            ("obs", "GET /Observation?patient=<id>&_count=10", lambda h: SEARCH_LUA % (
                h, q(sample), "/Observation?patient=%s&_count=10")),
            ("cond", "GET /Condition?patient=<id>", lambda h: SEARCH_LUA % (
                h, q(sample), "/Condition?patient=%s")),
        ]
        res["requests"] = []
        for key, label, make in workloads:
            lua_off = os.path.join(work, key + "-off.lua")
            lua_smart = os.path.join(work, key + "-smart.lua")
            with open(lua_off, "w") as f:
                f.write(make(""))
            with open(lua_smart, "w") as f:
                f.write(make(header))
            log(label)
            lib.wrk(off.url("/"), 1, args.connections, lua_off)  # warm-up
            sb.quiesce(off.proc)
            lib.wrk(smart.url("/"), 1, args.connections, lua_smart)
            sb.quiesce(smart.proc)
            runs = {"off": [], "smart": []}
            for _ in range(args.repeats):
                runs["off"].append(wrk_cpu(off, "/", args.duration, args.connections, lua_off))
                sb.quiesce(off.proc)
                runs["smart"].append(wrk_cpu(smart, "/", args.duration, args.connections,
                                             lua_smart))
                sb.quiesce(smart.proc)
                log("  off %7.0f/s  smart %7.0f/s" % (runs["off"][-1]["rps"],
                                                      runs["smart"][-1]["rps"]))
            res["requests"].append((label, runs))

        off.stop()  # the token endpoint is measured on the smart server alone
        res["token"] = token_endpoint(args, work, keys, smart, token_url)


def token_endpoint(args, work, keys, smart, token_url):
    nthreads = min(2, args.connections)

    def batch(n, name):
        path = os.path.join(work, name)
        t0 = time.monotonic()
        with open(path, "w") as f:
            f.write(node("assertions", keys, CLIENT_ID, token_url, str(n),
                         str(ASSERTION_LIFETIME_S)))
        log("  %d assertions signed in %.1f s" % (n, time.monotonic() - t0))
        lua = os.path.join(work, name + ".lua")
        with open(lua, "w") as f:
            f.write(TOKEN_LUA % (path, nthreads, urllib.parse.quote(JWT_BEARER, safe="")))
        return lua

    def measure(lua, duration):
        s0, c0 = proc_cpu_ms(smart.pid), children_cpu_ms()
        r = lib.wrk(smart.url("/auth/token"), duration, args.connections, lua)
        m = re.search(r"token-responses ok (\d+) other (\d+)", r["output"])
        if not m:
            raise RuntimeError("no response counts from the token script: %s" %
                               r["output"][-300:])
        ok, other = int(m.group(1)), int(m.group(2))
        if other:
            raise RuntimeError("the token endpoint answered %d requests with a status other "
                               "than 200" % other)
        n = max(wrk_requests(r), 1)
        r["ok"] = ok
        r["cpu"] = (proc_cpu_ms(smart.pid) - s0) / n
        r["wrk_cpu"] = (children_cpu_ms() - c0) / n
        r["ok_rps"] = r["rps"] * ok / n
        r["secs"] = n / max(r["rps"], 1e-9)
        sb.quiesce(smart.proc)
        return r

    log("token endpoint (warm-up)")
    warm = measure(batch(min(2000, args.assertions), "warm"), 1)
    # Enough for a run at twice the warm-up's rate, within the bound.
    per_run = int(min(args.assertions, max(2000, 2 * warm["ok_rps"] * args.duration)))
    openssl_es384()
    out = {"runs": [], "openssl": [], "per_run": per_run}
    for k in range(args.repeats):
        lua = batch(per_run, "run%d" % k)
        r = measure(lua, args.duration)
        out["runs"].append(r)
        out["openssl"].append(openssl_es384())
        log("  %7.0f tokens/s (%d of %d assertions in %.1f s); openssl ES384 sign %.0f/s, "
            "verify %.0f/s" % (r["ok_rps"], r["ok"], per_run, r["secs"], *out["openssl"][-1]))
    return out


# ---- the report -------------------------------------------------------------------------------

def report(args, res, started):
    p = print
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
    p("Measured %s, %d cores, %s GiB memory (`free -g` total), load average %s at the end; "
      "vesta at commit %s%s. Population: `vesta generate --patients %d --seed 7`, %d "
      "resources, imported once and copied so that each server reads its own store. Both "
      "servers are the same binary, up side by side: `vesta serve --auth off --audit off` (open) "
      "and `vesta serve --auth smart --auth-dir DIR` with the audit trail on (the default), "
      "whose every request is recorded and carries `Authorization: Bearer` with an "
      "access token obtained once through the backend services flow (client `%s`, an ES384 key "
      "made by panva/jose, granted `%s`). wrk -t2, %d connections, %d s runs, %d alternating "
      "repeats after an untimed warm-up, median (min–max)." % (
          started, os.cpu_count(), mem.split()[1],
          " ".join(open("/proc/loadavg").read().split()[:3]), git("rev-parse", "--short", "HEAD"),
          " + uncommitted changes in src/" if git("status", "--porcelain", "--", "src") else "",
          args.patients, res["resources"], CLIENT_ID, res["granted"], args.connections,
          args.duration, args.repeats))
    p("")
    p("Command: `bench/auth/auth_bench.py --vesta build/vesta --patients %d --repeats %d "
      "--duration %d --connections %d --assertions %d`" % (
          args.patients, args.repeats, args.duration, args.connections, args.assertions))

    p("\n**Requests with and without authorization** (random ids among %d patients; smart / "
      "off is the median of each round's paired runs):\n" % min(SAMPLE, args.patients))
    p("| request | auth off req/s | auth smart req/s | off p50 / p99 ms | smart p50 / p99 ms "
      "| CPU ms per request, off → smart (server) | smart / off |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    targets = []
    for label, runs in res["requests"]:
        a = [r["rps"] for r in runs["off"]]
        b = [r["rps"] for r in runs["smart"]]
        rel = [y / x for x, y in zip(a, b)]
        targets.append((label, rel))
        med = lambda k, f: statistics.median(r[f] for r in runs[k])  # noqa: E731
        p("| `%s` | %s | %s | %.2f / %.2f | %.2f / %.2f | %.3f → %.3f | %s |" % (
            label, ms(a), ms(b), med("off", "p50"), med("off", "p99"), med("smart", "p50"),
            med("smart", "p99"), med("off", "cpu"), med("smart", "cpu"), ratio(rel)))

    t = res["token"]
    runs = t["runs"]
    sign = [s for s, _ in t["openssl"]]
    verify = [v for _, v in t["openssl"]]
    floor = [1000.0 / s + 1000.0 / v for s, v in t["openssl"]]
    p("\n**Token endpoint** (POST /auth/token, client_credentials with a distinct ES384 client "
      "assertion per request, signed beforehand by panva/jose; at most %d assertions and %d s "
      "per run, every response checked to be 200). Baseline: `openssl speed -seconds 1 "
      "ecdsap384` alternated with the runs, one core: an ES384 verify (the assertion) plus an "
      "ES384 signature (the token) is the endpoint's cryptographic floor.\n" % (
          t["per_run"], args.duration))
    p("| tokens/s | p50 ms | p99 ms | CPU ms per token (server) | CPU ms per token (wrk) | "
      "openssl sign/s | openssl verify/s | openssl sign + verify, ms | server CPU / floor |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    p("| %s | %.2f | %.2f | %.3f | %.3f | %s | %s | %.3f | %s |" % (
        ms([r["ok_rps"] for r in runs]), statistics.median(r["p50"] for r in runs),
        statistics.median(r["p99"] for r in runs), statistics.median(r["cpu"] for r in runs),
        statistics.median(r["wrk_cpu"] for r in runs), ms(sign), ms(verify),
        statistics.median(floor), ratio([r["cpu"] / f for r, f in zip(runs, floor)])))
    p("\nSuccessful tokens per run: %s (of %d assertions; a run ends when its assertions are "
      "used up or its time is over)." % (", ".join(str(r["ok"]) for r in runs), t["per_run"]))

    p("\n**Target** (median of the paired ratios, min–max):\n")
    p("| target | ratio | needed | met |")
    p("| --- | ---: | ---: | --- |")
    for label, xs in targets:
        m, lo, hi = lib.median_spread(xs)
        p("| `%s`: auth smart + audit / open | %.2f (%.2f–%.2f) | ≥ 0.85 | %s |" % (
            label, m, lo, hi, "yes" if m >= 0.85 else "**no**"))


if __name__ == "__main__":
    main()
