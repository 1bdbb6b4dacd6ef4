// The fhirpath.js side of the FHIRPath benchmark (bench/fhirpath/run.sh).
//
//   node fhirpath_bench.js manifest <examples-dir> <out.json>   writes the workload
//   node fhirpath_bench.js run <manifest.json> <seconds>       times it
//
// The workload: every R4 search parameter expression (SearchParameter-*.json, field
// `expression`) on the first examples of each of its base resource types, plus a few heavy
// expressions on every selected example. Pairs that fhirpath.js cannot evaluate are dropped.
'use strict';
const fs = require('fs');
const path = require('path');
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');

const kPerType = 5;  // examples per resource type
const kMaxBytes = 100000;  // larger examples (a few huge Bundles) are left out
const kHeavy = [
  'descendants().count()',
  "descendants().ofType(Coding).where(system.exists()).code",
  "descendants().ofType(Reference).reference",
  "descendants().ofType(string).where($this.length() > 20).count()",
  "(descendants().ofType(code) | descendants().ofType(uri)).count()",
];

function manifest(dir, out) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const byType = new Map();
  const params = [];
  for (const f of files) {
    let res;
    try {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      if (text.length > kMaxBytes) continue;
      res = JSON.parse(text);
    } catch (e) {
      continue;
    }
    if (!res || typeof res.resourceType !== 'string') continue;
    if (res.resourceType === 'SearchParameter' && res.expression) params.push(res);
    const list = byType.get(res.resourceType) || [];
    if (list.length < kPerType) {
      list.push(f);
      byType.set(res.resourceType, list);
    }
  }
  const resources = [];
  const indexOf = new Map();
  for (const [type, list] of [...byType.entries()].sort()) {
    for (const f of list) {
      indexOf.set(f, resources.length);
      resources.push({file: f, type});
    }
  }
  const loaded = resources.map((r) => JSON.parse(fs.readFileSync(path.join(dir, r.file), 'utf8')));
  const cases = [];
  let dropped = 0;
  const add = (name, expression, targets) => {
    let fn;
    try {
      fn = fhirpath.compile(expression, r4);
    } catch (e) {
      dropped += targets.length;
      return;
    }
    const ok = [];
    const t0 = Date.now();
    for (const i of targets) {
      try {
        fn(loaded[i]);
        ok.push(i);
      } catch (e) {
        dropped++;
      }
    }
    const ms = Date.now() - t0;
    if (ms > 500) console.error(`slow in fhirpath.js: ${name} ${ms} ms`);
    if (ok.length) cases.push({name, expression, resources: ok});
  };
  for (const p of params) {
    const bases = new Set(p.base || []);
    const all = bases.has('Resource') || bases.has('DomainResource');
    const targets = [];
    resources.forEach((r, i) => {
      if (all || bases.has(r.type)) targets.push(i);
    });
    if (targets.length) add(p.id, p.expression, targets);
  }
  const everything = resources.map((r, i) => i);
  kHeavy.forEach((e, k) => add('heavy-' + k, e, everything));
  fs.writeFileSync(out, JSON.stringify({dir, resources: resources.map((r) => r.file), cases,
                                        dropped}));
  const pairs = cases.reduce((n, c) => n + c.resources.length, 0);
  console.log(`manifest: ${resources.length} resources, ${cases.length} expressions, ` +
              `${pairs} pairs (${dropped} dropped: fhirpath.js errors)`);
}

function run(file, seconds) {
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  const resources = m.resources.map((f) => JSON.parse(fs.readFileSync(path.join(m.dir, f),
                                                                      'utf8')));
  const compiled = m.cases.map((c) => ({fn: fhirpath.compile(c.expression, r4),
                                        resources: c.resources}));
  let pairs = 0;
  let items = 0;
  const pass = () => {
    let n = 0;
    for (const c of compiled) {
      for (const i of c.resources) n += c.fn(resources[i]).length;
    }
    return n;
  };
  for (const c of compiled) pairs += c.resources.length;
  items = pass();  // warm-up (JIT), untimed
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let passes = 0;
  while (passes < 1000) {
    pass();
    passes++;
    if (process.hrtime.bigint() - start >= limit) break;
  }
  const ns = Number(process.hrtime.bigint() - start);
  console.log(JSON.stringify({engine: 'fhirpath.js ' + fhirpath.version, pairs, passes, items,
                              ns_per_eval: ns / (passes * pairs)}));
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'manifest') {
  manifest(a, b);
} else if (cmd === 'run') {
  run(a, Number(b || 2));
} else {
  console.error('usage: fhirpath_bench.js manifest <dir> <out> | run <manifest> [seconds]');
  process.exit(2);
}
