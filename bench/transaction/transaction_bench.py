#!/usr/bin/env python3
"""Transactions against one-by-one writes, and $everything latency (docs/benchmarks.md).

Follows ../../../shared/design/BENCHMARKS.md. In one run, alternating, on fresh stores:
  A: the Synthea bundles (the two shared bundles, then the 20 patients) POSTed as they are:
     batch/transaction Bundles with urn:uuid and conditional references resolved by the server;
  B: the same resources written one request at a time (PUT [type]/[id], references rewritten
     by this script, conditional references resolved once by a search), one client.
Reports resources/s for each and the ratio A/B (median and min-max of the repeats), then the
latency of Patient/$everything (_count=1000, all pages) for the largest patient.

Usage: bench/transaction/transaction_bench.py --vesta build/vesta [--repeats 3]
Needs ../shared/data/synthea (or $VESTA_SHARED_DATA); exits 0 with a reason when absent.
"""
import argparse
import glob
import http.client
import json
import os
import re
import shutil
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def request(self, method, path, body=None, headers=None):
        h = {"Content-Type": "application/fhir+json", "Prefer": "return=minimal"}
        h.update(headers or {})
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        if r.status >= 300:
            raise RuntimeError("%s %s: %d %s" % (method, path, r.status, data[:300]))
        return data


def rewrite(v, refs):
    if isinstance(v, list):
        return [rewrite(x, refs) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k == "reference" and isinstance(x, str) and x in refs:
                out[k] = refs[x]
            else:
                out[k] = rewrite(x, refs)
        return out
    return v


def load_bundles(client, files):
    n = 0
    for f in files:
        with open(f, "rb") as fh:
            body = fh.read()
        client.request("POST", "/", body)
        n += len(json.loads(body)["entry"])
    return n


def load_one_by_one(client, files):
    n = 0
    conditional = {}
    for f in files:
        with open(f) as fh:
            bundle = json.load(fh)
        refs = {}
        for e in bundle["entry"]:
            res = e["resource"]
            refs[e.get("fullUrl", "")] = "%s/%s" % (res["resourceType"], res["id"])
        for e in bundle["entry"]:
            res = e["resource"]
            req = e["request"]
            if req.get("ifNoneExist"):
                key = res["resourceType"] + "?" + req["ifNoneExist"]
                if key in conditional:
                    continue
                conditional[key] = True
            text = json.dumps(res)
            for ref in set(re.findall(r'"reference": "([A-Za-z]+\?[^"]+)"', text)):
                if ref not in refs:
                    t, q = ref.split("?", 1)
                    found = json.loads(client.request("GET", "/%s?%s&_count=1&_elements=id" % (
                        t, urllib.parse.quote(q, safe="=&|:/")), headers={"Prefer": ""}))
                    refs[ref] = "%s/%s" % (t, found["entry"][0]["resource"]["id"])
            res = rewrite(res, refs)
            client.request("PUT", "/%s/%s" % (res["resourceType"], res["id"]), json.dumps(res))
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--data", default=os.environ.get("VESTA_SHARED_DATA", "../shared/data"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--patients", type=int, default=0, help="only the N largest patients (0: all)")
    args = ap.parse_args()
    vesta = os.path.abspath(args.vesta)
    syn = os.path.join(args.data, "synthea")
    patients = sorted(glob.glob(os.path.join(syn, "patients", "*.json")))
    if args.patients > 0:
        # The largest patient is always among them ($everything is measured on it).
        largest_first = sorted(patients, key=os.path.getsize, reverse=True)
        patients = sorted(largest_first[:args.patients])
    files = sorted(glob.glob(os.path.join(syn, "shared", "*.json"))) + patients
    if len(files) < 3:
        print("Skipped: the Synthea bundles are not at %s." % syn)
        return 0
    largest = max(patients, key=os.path.getsize)
    rates = {"transaction": [], "single": []}
    everything_ms = []
    everything_count = 0
    with lib.work_dir("vesta-tx-bench-") as work:
        for rep in range(args.repeats + 1):  # the first pair is the warm-up
            for mode in ("transaction", "single"):
                data = os.path.join(work, "%s-%d" % (mode, rep))
                with lib.Server(vesta, data, ("--referential-integrity", "off")) as server:
                    c = Client(server.port)
                    t0 = time.monotonic()
                    n = (load_bundles if mode == "transaction" else load_one_by_one)(c, files)
                    secs = time.monotonic() - t0
                    if rep > 0:
                        rates[mode].append(n / secs)
                    if mode == "transaction" and rep > 0:
                        with open(largest) as fh:
                            family = json.load(fh)["entry"][0]["resource"]["name"][0]["family"]
                        found = json.loads(c.request("GET", "/Patient?family=%s&_elements=id" %
                                                     urllib.parse.quote(family),
                                                     headers={"Prefer": ""}))
                        pid = found["entry"][0]["resource"]["id"]
                        for _ in range(3):
                            t0 = time.monotonic()
                            path = "/Patient/%s/$everything?_count=1000" % pid
                            count = 0
                            for _page in range(100):
                                page = json.loads(c.request("GET", path, headers={"Prefer": ""}))
                                count += len(page.get("entry", []))
                                nxt = [l["url"] for l in page["link"] if l["relation"] == "next"]
                                if not nxt:
                                    break
                                u = urllib.parse.urlparse(nxt[0])
                                path = u.path + "?" + u.query
                            everything_ms.append((time.monotonic() - t0) * 1000)
                            everything_count = count
                shutil.rmtree(data, ignore_errors=True)
    med = lib.median
    ratios = [a / b for a, b in zip(rates["transaction"], rates["single"])]
    out = ["Command: `bench/transaction/transaction_bench.py --vesta build/vesta --repeats %d`; the "
           "Synthea bundles in ../shared/data/synthea (the 2 shared bundles and %d patients), one client, durable writes, "
           "referential integrity off in both modes (one-by-one order has forward references); "
           "median (min–max)." % (args.repeats, len(files) - 2), "",
           "| load | resources/s | ratio |", "| --- | ---: | ---: |",
           "| batch/transaction Bundles | %s (%s–%s) | %.1f (%.1f–%.1f) |" % (
               "{:,.0f}".format(med(rates["transaction"])),
               "{:,.0f}".format(min(rates["transaction"])),
               "{:,.0f}".format(max(rates["transaction"])), med(ratios), min(ratios), max(ratios)),
           "| the same resources one by one (PUT) — baseline | %s (%s–%s) | 1.0 |" % (
               "{:,.0f}".format(med(rates["single"])), "{:,.0f}".format(min(rates["single"])),
               "{:,.0f}".format(max(rates["single"]))),
           "",
           "Patient/$everything for the largest Synthea patient (%s, %d resources, _count=1000, "
           "all pages): median %.0f ms (%.0f–%.0f) over %d calls." % (
               os.path.basename(largest).split("_")[0], everything_count, med(everything_ms),
               min(everything_ms), max(everything_ms), len(everything_ms))]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
