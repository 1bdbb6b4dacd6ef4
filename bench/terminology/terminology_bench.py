#!/usr/bin/env python3
"""Terminology benchmarks over HTTP (docs/terminology.md), on the full ICD-10-CM and GEMs data.

Follows ../../../shared/design/BENCHMARKS.md: GET /healthz of the same server is the baseline
measured in the same run; runs alternate; median and min-max of the repeats after a warm-up.
  - time to load the full ICD-10-CM (FY2023 Tabular XML + FY2022 order file) and both GEMs;
  - CodeSystem/$validate-code and CodeSystem/$lookup requests/s with wrk (32 connections),
    random billable codes from the FY2022 code list;
  - ConceptMap/$translate (ICD-9-CM -> ICD-10-CM) requests/s on random ICD-9 codes of the GEM;
  - the time to load the R4 CodeSystems and ValueSets (`vesta terminology load r4`);
  - search modifiers answered by the terminology against the plain token search, on a generated
    population: Condition code:below a category (E11) and a chapter (E00-E89), and
    Observation status:in / status:not-in the R4 value set observation-status.
For scale: Blaze reports about 60,000 $validate-code/s on 24 cores.

Needs the reference data: --data (default ../shared/data, or $VESTA_SHARED_DATA).
Usage: bench/terminology/terminology_bench.py --vesta build/vesta [--repeats 3] [--duration 4]
Prints a Markdown section on stdout; exits 0 with a one-line reason when the data is absent.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import lib  # noqa: E402

LUA = """
local codes = {}
for line in io.lines("%s") do codes[#codes + 1] = line end
math.randomseed(7)
request = function()
  return wrk.format("GET", "%s" .. codes[math.random(#codes)])
end
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vesta", default="build/vesta")
    ap.add_argument("--data", default=os.environ.get("VESTA_SHARED_DATA", "../shared/data"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--r4", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "..", "..", "node_modules",
                                                 "hl7.fhir.r4.examples"),
                    help="the unpacked R4 package (default: the project's node_modules)")
    args = ap.parse_args()
    vesta = os.path.abspath(args.vesta)
    icd = os.path.join(args.data, "icd10cm")
    tabular = os.path.join(icd, "cdc-tabular-2023", "icd10cm_tabular_2023.xml.gz")
    order = os.path.join(icd, "derived-fy2022-order", "icd10cm_order_2022.tsv.gz")
    codes_txt = os.path.join(icd, "derived-fy2022-order", "icd10cm_codes_2022.txt")
    gem9 = os.path.join(icd, "gems-2018", "2018_I9gem.txt")
    gem10 = os.path.join(icd, "gems-2018", "2018_I10gem.txt")
    if not all(os.path.exists(p) for p in (tabular, order, codes_txt, gem9, gem10)):
        print("Skipped: the ICD-10-CM reference data is not at %s." % icd)
        return 0
    with lib.work_dir("vesta-term-bench-") as work:
        print("\n".join(measure(args, vesta, work, tabular, order, codes_txt, gem9, gem10)))
    return 0


def measure(args, vesta, work, tabular, order, codes_txt, gem9, gem10):
    """The section's lines."""
    data = os.path.join(work, "data")
    loads = []
    for what, files in (("icd10cm-tabular", [tabular]), ("icd10cm-order", [order]),
                        ("gems", [gem9, gem10])):
        t0 = time.monotonic()
        subprocess.run([vesta, "terminology", "load", what, *files, "--data-dir", data],
                       check=True, capture_output=True)
        loads.append((what, time.monotonic() - t0))
    t0 = time.monotonic()
    r4 = subprocess.run([vesta, "terminology", "load", "r4", args.r4, "--data-dir", data],
                        capture_output=True)
    if r4.returncode == 0:
        loads.append(("r4", time.monotonic() - t0))
    # A population with ICD-10-CM coded Conditions, for :below against a plain token search.
    gen = os.path.join(work, "gen")
    subprocess.run([vesta, "generate", "--patients", str(args.patients), "--seed", "7",
                    "--format", "ndjson", "--out", gen], check=True, capture_output=True)
    subprocess.run([vesta, "import", "--fast", "--data-dir", data, gen], check=True,
                   capture_output=True)
    shutil.rmtree(gen)
    codes = []
    with open(codes_txt) as f:
        for line in f:
            c = line.split()[0]
            codes.append(c[:3] + "." + c[3:] if len(c) > 3 else c)
    random.Random(1).shuffle(codes)
    icd9 = []
    with open(gem9) as f:
        for line in f:
            icd9.append(line.split()[0])
    icd9 = sorted(set(icd9))
    random.Random(2).shuffle(icd9)
    with lib.Server(vesta, data) as server:
        base = server.base
        # The FY2022 list holds a few codes FY2023 dropped ($lookup answers 404 for those):
        # keep the ones the loaded release knows, so every timed request is a success.
        known = []
        for c in codes[:3000]:
            try:
                urllib.request.urlopen(base + "/CodeSystem/$lookup?system="
                                       "http://hl7.org/fhir/sid/icd-10-cm&code=" + c).read()
                known.append(c)
            except urllib.error.HTTPError:
                pass
        codes = known
        scripts = {}
        for name, values, prefix in (
                ("validate", codes[:20000],
                 "/CodeSystem/$validate-code?url=http://hl7.org/fhir/sid/icd-10-cm&code="),
                ("lookup", codes[:20000],
                 "/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code="),
                ("translate", icd9[:10000],
                 "/ConceptMap/$translate?system=http://hl7.org/fhir/sid/icd-9-cm"
                 "&targetsystem=http://hl7.org/fhir/sid/icd-10-cm&code=")):
            lst = os.path.join(work, name + ".txt")
            with open(lst, "w") as f:
                f.write("\n".join(values) + "\n")
            scripts[name] = os.path.join(work, name + ".lua")
            with open(scripts[name], "w") as f:
                f.write(LUA % (lst, prefix))
        lib.wrk(base + "/healthz", 1)
        for s in scripts.values():
            lib.wrk(base, 1, script=s)
        icd = "http://hl7.org/fhir/sid/icd-10-cm"
        # Every generated Observation is final: the status searches are one patient's, the
        # way a client asks (the reference drives, the status condition is checked per row).
        first = json.loads(urllib.request.urlopen(base + "/Patient?_count=1&_elements=id").read())
        subject = "subject=Patient/" + first["entry"][0]["resource"]["id"]
        vs = "http://hl7.org/fhir/ValueSet/observation-status"
        searches = {
            "below": "/Condition?code:below=%s|E11&_summary=count" % icd,
            "plain": "/Condition?code=%s|E11.9&_summary=count" % icd,
            "chapter": "/Condition?code:below=%s|E00-E89&_summary=count" % icd,
            "status_in": "/Observation?%s&status:in=%s&_summary=count" % (subject, vs),
            "status_plain": "/Observation?%s&status=final&_summary=count" % subject,
            "status_not_in": "/Observation?%s&status:not-in=%s&_summary=count" % (subject, vs),
            "status_not": "/Observation?%s&status:not=final&_summary=count" % subject,
        }
        counts = {}
        for key, path in list(searches.items()):
            try:
                page = json.loads(urllib.request.urlopen(base + path).read())
                counts[key] = page.get("total", len(page.get("entry", [])))
                lib.wrk(base + path, 1)
            except urllib.error.HTTPError as e:
                counts[key] = "HTTP %d" % e.code  # not supported by this build: not timed
                del searches[key]
        runs = {"healthz": []}
        runs.update({k: [] for k in scripts})
        runs.update({k: [] for k in searches})
        for _ in range(args.repeats):
            for name, script in scripts.items():
                runs["healthz"].append(lib.wrk(base + "/healthz", args.duration))
                runs[name].append(lib.wrk(base, args.duration, script=script))
            for key, path in searches.items():
                runs[key].append(lib.wrk(base + path, args.duration))
    med = lib.median
    hz = med([x["rps"] for x in runs["healthz"]])
    out = ["Command: `bench/terminology/terminology_bench.py --vesta build/vesta --repeats %d "
           "--duration %d`; full ICD-10-CM FY2023 Tabular + FY2022 order file + 2018 GEMs; wrk "
           "32 connections on loopback, random codes." % (args.repeats, args.duration), "",
           "| load | seconds |", "| --- | ---: |"]
    for what, secs in loads:
        out.append("| `vesta terminology load %s` | %.1f |" % (what, secs))
    out.append("| all | %.1f |" % sum(s for _, s in loads))
    out += ["", "| request | req/s | vs /healthz | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: | ---: |"]
    labels = {"healthz": "GET /healthz (baseline)",
              "validate": "CodeSystem/$validate-code (ICD-10-CM)",
              "lookup": "CodeSystem/$lookup (ICD-10-CM)",
              "translate": "ConceptMap/$translate (ICD-9-CM → ICD-10-CM)"}
    for key in ("healthz", "validate", "lookup", "translate"):
        xs = runs[key]
        rps = [x["rps"] for x in xs]
        out.append("| %s | %s (%s–%s) | %.2f | %.2f | %.2f |" % (
            labels[key], "{:,.0f}".format(med(rps)), "{:,.0f}".format(min(rps)),
            "{:,.0f}".format(max(rps)), med(rps) / hz, med([x["p50"] for x in xs]),
            med([x["p99"] for x in xs])))
    out += ["", "Search modifiers answered by the terminology, over %s generated patients "
            "(`_summary=count`, the same run, alternating); ratio = req/s of the search / "
            "req/s of the plain token search beside it (1.00: as fast):" % "{:,}".format(
                args.patients), "",
            "| search | matches | req/s | p50 ms | ratio to plain |",
            "| --- | ---: | ---: | ---: | ---: |"]
    labels = [("plain", "`Condition?code=icd-10-cm\\|E11.9` (plain; count)", None),
              ("below", "`Condition?code:below=icd-10-cm\\|E11` (116 codes; count)", "plain"),
              ("chapter", "`Condition?code:below=icd-10-cm\\|E00-E89` (1,214 codes; count)",
               "plain"),
              ("status_plain", "`Observation?subject=…&status=final` (plain; count)", None),
              ("status_in", "`Observation?subject=…&status:in=…/observation-status` (count)",
               "status_plain"),
              ("status_not", "`Observation?subject=…&status:not=final` (plain; count)", None),
              ("status_not_in",
               "`Observation?subject=…&status:not-in=…/observation-status` (count)",
               "status_not")]
    for key, label, against in labels:
        if key not in runs or not runs[key]:
            out.append("| %s | %s | – | – | – |" % (label, counts.get(key, "–")))
            continue
        rps = [x["rps"] for x in runs[key]]
        ratio = "–"
        if against and runs.get(against):
            rs = [x / y for x, y in zip(rps, [z["rps"] for z in runs[against]])]
            ratio = "%.2f (%.2f–%.2f)" % (med(rs), min(rs), max(rs))
        out.append("| %s | %s | %s | %.2f | %s |" % (
            label, "{:,}".format(counts[key]), "{:,.0f}".format(med(rps)),
            med([x["p50"] for x in runs[key]]), ratio))
    return out


if __name__ == "__main__":
    sys.exit(main())
