// The web app's chart against the same server's /metadata (docs/benchmarks.md, "Web app"): time
// from navigation to the chart's first full render (the app's performance mark "chart-ready",
// set when every section is in) for the generated patient with the most Observations, median of
// RUNS runs in Debian's Chromium, each in a fresh browser context (no HTTP cache); and, in the same
// page after each render, one fetch of /metadata (Accept: application/fhir+json). Also the built
// bundle's size, raw and gzip.
//
//   node bench/web/chart_bench.mjs --vesta build/vesta --web build/web [--patients 100] [--runs 5]
//       [--shared ../shared/data] [--chromium /usr/bin/chromium]
//
// Starts `vesta serve --demo` on port 0 in a temporary data folder (with ICD-10-CM and the GEMs
// from the reference data when present, as `make run` does) and prints Markdown on stdout.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../package.json'));
const { chromium } = require('playwright-core');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const vesta = arg('vesta', 'build/vesta');
const web = arg('web', 'build/web');
const patients = Number(arg('patients', '100'));
const runs = Number(arg('runs', '5'));
const shared = arg('shared', process.env.VESTA_SHARED_DATA ?? path.join(here, '../../../shared/data'));
const executablePath = arg('chromium', '/usr/bin/chromium');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(path.join(os.tmpdir(), 'vesta-web-bench-'));
const data = path.join(dir, 'data');
const tabular = path.join(shared, 'icd10cm/cdc-tabular-2023/icd10cm_tabular_2023.xml.gz');
const gems = path.join(shared, 'icd10cm/gems-2018');
const terminology = existsSync(tabular) && existsSync(path.join(gems, '2018_I9gem.txt'));
if (terminology) {
  for (const args of [
    ['icd10cm-tabular', tabular],
    ['gems', path.join(gems, '2018_I9gem.txt'), path.join(gems, '2018_I10gem.txt')],
  ]) {
    const r = spawnSync(vesta, ['terminology', 'load', ...args, '--data-dir', data], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`vesta terminology load ${args[0]} failed`);
  }
}
const server = spawn(vesta, ['serve', '--port', '0', '--data-dir', data, '--auth', 'off', '--demo', '--demo-patients', String(patients), '--app-dir', web], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
const base = await new Promise((resolve, reject) => {
  let text = '';
  server.stdout.on('data', (d) => {
    text += d;
    const m = /listening on (http:\/\/\S+)/.exec(text);
    if (m) resolve(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`vesta serve exited with ${code}`)));
});

let browser;
try {
  const get = async (p) => (await fetch(base + p, { headers: { Accept: 'application/fhir+json' } })).json();
  // The patient with the most Observations.
  const ids = [];
  for (let next = '/Patient?_elements=id&_count=200'; next; ) {
    const b = await get(next);
    ids.push(...(b.entry ?? []).map((e) => e.resource.id));
    const n = b.link?.find((l) => l.relation === 'next')?.url;
    next = n ? new URL(n).pathname + new URL(n).search : undefined;
  }
  let best = { id: '', observations: -1 };
  for (const id of ids) {
    const n = (await get(`/Observation?patient=Patient/${id}&_summary=count`)).total;
    if (n > best.observations) best = { id, observations: n };
  }
  const resources = {};
  for (const t of ['Condition', 'Encounter', 'MedicationRequest', 'Immunization']) {
    resources[t] = (await get(`/${t}?patient=Patient/${best.id}&_summary=count`)).total;
  }

  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  const chart = [];
  const metadata = [];
  const requests = [];
  const bytes = [];
  const loaded = [];
  const slowest = [];
  let slowestName = '';
  for (let i = 0; i < runs; ++i) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/app/patient/${best.id}`);
    await page.waitForSelector('body[data-chart-ready]', { timeout: 30000 });
    const m = await page.evaluate(async () => {
      const ready = performance.getEntriesByName('chart-ready')[0].startTime;
      const api = performance.getEntriesByType('resource').filter((e) => !e.name.includes('/app/'));
      const t0 = performance.now();
      await (await fetch('/metadata', { headers: { Accept: 'application/fhir+json' } })).text();
      const meta = performance.now() - t0;
      const nav = performance.getEntriesByType('navigation')[0];
      const slowest = api.reduce((a, e) => (e.duration > a.duration ? e : a), { duration: 0, name: '' });
      return {
        ready,
        meta,
        requests: api.length,
        bytes: api.reduce((s, e) => s + e.transferSize, 0),
        loaded: nav.domContentLoadedEventEnd,
        slowest: slowest.duration,
        slowestName: decodeURIComponent(new URL(slowest.name, location.href).pathname + new URL(slowest.name, location.href).search),
      };
    });
    chart.push(m.ready);
    metadata.push(m.meta);
    requests.push(m.requests);
    bytes.push(m.bytes);
    loaded.push(m.loaded);
    slowest.push(m.slowest);
    slowestName = m.slowestName;
    await context.close();
  }

  const assets = readdirSync(path.join(web, 'assets')).map((f) => path.join(web, 'assets', f));
  const files = [path.join(web, 'index.html'), ...assets];
  const raw = files.reduce((s, f) => s + statSync(f).size, 0);
  const gz = files.reduce((s, f) => s + zlib.gzipSync(readFileSync(f), { level: 6 }).length, 0);
  const fmt = (x) => x.toFixed(1);
  console.log(`Chart of the generated patient with the most Observations (${best.observations} Observations, ` +
    `${resources.Condition} Conditions, ${resources.Encounter} Encounters, ${resources.MedicationRequest} MedicationRequests, ` +
    `${resources.Immunization} Immunizations; ${patients} patients, SQLite, ${terminology ? 'ICD-10-CM and GEMs loaded' : 'no ICD-10-CM loaded'}), ` +
    `${runs} runs in Chromium ${browser.version()}, each in a fresh context:\n`);
  console.log('| measure | median | runs (ms) |');
  console.log('| --- | --- | --- |');
  console.log(`| navigation to the chart's full render | ${fmt(median(chart))} ms | ${chart.map(fmt).join(', ')} |`);
  console.log(`| of which: the app loaded (DOMContentLoaded) | ${fmt(median(loaded))} ms | ${loaded.map(fmt).join(', ')} |`);
  console.log(`| of which: the slowest FHIR request | ${fmt(median(slowest))} ms | ${slowest.map(fmt).join(', ')} (last run: ${slowestName.replace(/\|/g, '\\|')}) |`);
  console.log(`| one /metadata fetch in the same page | ${fmt(median(metadata))} ms | ${metadata.map(fmt).join(', ')} |`);
  console.log(`| ratio chart / metadata | ${(median(chart) / median(metadata)).toFixed(1)} | |`);
  console.log(`| FHIR requests of one chart | ${median(requests)} | ${requests.join(', ')} |`);
  console.log(`| bytes of those requests (transfer) | ${median(bytes)} | |`);
  console.log(`\nBundle: ${files.length} files (index.html, ${assets.map((f) => path.basename(f)).join(', ')}), ` +
    `${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip (level 6).`);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
