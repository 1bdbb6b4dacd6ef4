// End-to-end test of the web app (docs/web-app.md) in Debian's Chromium, driven by playwright-core
// (no browser download), against a running `vesta serve --demo` with the ICD-10-CM and GEM
// fixtures loaded. Run by web_app_test.cc (ctest web_app_test.*), which starts the server:
//
//   node tests/web/e2e.mjs --base http://127.0.0.1:PORT --out DIR [--chromium /usr/bin/chromium]
//                          [--mllp-port N]
//
// Checks what issue #20 asks: search by name prefix and by MRN, the banner's allergy, E11.9 with
// its display from the terminology in the problem list, as many blood pressure points (plot and
// table) as the patient has readings, a worklist candidate accepted (checked through the API),
// no serious or critical axe-core violation on any page, the chart at phone width; screenshots
// of every page in DIR. With --mllp-port, HL7 v2 messages sent over MLLP by simple-hl7 (an npm
// client) and the feed page showing each one's ACK and the Patient and Encounter it created,
// linked to the chart. Exit status 0 when every check passed.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const base = arg('base');
const out = arg('out', 'web-artifacts');
const executablePath = arg('chromium', '/usr/bin/chromium');
const mllpPort = Number(arg('mllp-port', '0'));
if (!base) {
  console.error('usage: e2e.mjs --base URL --out DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';
const ICD9 = 'http://hl7.org/fhir/sid/icd-9-cm';
const LOINC = 'http://loinc.org';
let failures = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures += 1;
}

async function api(pathAndQuery, init = {}) {
  const res = await fetch(base + pathAndQuery, {
    ...init,
    headers: { Accept: 'application/fhir+json', 'Content-Type': 'application/fhir+json', ...(init.headers ?? {}) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${pathAndQuery}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}
const total = async (q) => (await api(`${q}${q.includes('?') ? '&' : '?'}_summary=count`)).total;
const resources = (bundle, type) => (bundle.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === type);

// Sends HL7 v2 messages (segments ended by CR) over MLLP with simple-hl7, one at a time on one
// connection; resolves to their ACKs' text.
function sendMllp(port, messages) {
  const hl7 = require('simple-hl7');
  const client = hl7.Server.createTcpClient({ host: '127.0.0.1', port, keepalive: true });
  const acks = [];
  return new Promise((resolve, reject) => {
    const next = (i) => {
      if (i === messages.length) {
        client.close();
        resolve(acks);
        return;
      }
      // The message as written: the library only frames it (its own parser would rewrite it).
      client.send({ toString: () => messages[i] }, (err, ack) => {
        if (err) return reject(err);
        acks.push(ack.toString());
        // The client clears its "awaiting a response" flag after this callback returns.
        setImmediate(() => next(i + 1));
      });
    };
    next(0);
  });
}
const msa = (ack) => (/(?:^|\r)MSA\|([^|\r]*)/.exec(ack) ?? [])[1];

async function axeCheck(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(serious.length === 0, `axe-core: no serious violation on ${name}`, serious.map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes): ${v.help}`).join('; '));
  const minor = result.filter((v) => !serious.includes(v));
  if (minor.length) console.log(`     (${name}: minor or moderate: ${minor.map((v) => `${v.id}/${v.impact}`).join(', ')})`);
}

// The whole page, and what a screen shows first (`NAME-top.png`, the size docs/ uses).
async function shot(page, name) {
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
  await page.screenshot({ path: path.join(out, `${name}-top.png`) });
}

// The patient under test: the one with ICD-10-CM E11.9 (the demo population has one); an allergy
// is added when the patient has none.
const dm = await api(`/Condition?code=${encodeURIComponent(`${ICD10}|E11.9`)}&_count=10`);
const subject = resources(dm, 'Condition')[0]?.subject?.reference;
if (!subject) {
  console.log('FAIL no Condition with ICD-10-CM E11.9 in the population');
  process.exit(1);
}
const pid = subject.split('/')[1];
const patient = await api(`/Patient/${pid}`);
const official = patient.name.find((n) => n.use === 'official') ?? patient.name[0];
const family = official.family;
const mrn = patient.identifier.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value;
let allergies = resources(await api(`/AllergyIntolerance?patient=${subject}`), 'AllergyIntolerance');
if (allergies.length === 0) {
  await api('/AllergyIntolerance', {
    method: 'POST',
    body: JSON.stringify({
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '91935009', display: 'Allergy to peanut' }], text: 'Peanut' },
      patient: { reference: subject },
    }),
  });
  allergies = resources(await api(`/AllergyIntolerance?patient=${subject}`), 'AllergyIntolerance');
}
const allergyText = allergies[0].code.text ?? allergies[0].code.coding[0].display;
const bpReadings = await total(`/Observation?patient=${subject}&code=${encodeURIComponent(`${LOINC}|85354-9`)}`);
console.log(`patient ${pid}: ${family}, MRN ${mrn}, allergy "${allergyText}", ${bpReadings} blood pressure readings`);

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
// bypassCSP: axe-core is injected as an inline script, which the app's policy refuses.
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
const page = await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
// A 404 of $lookup for a code the terminology lacks is an answer, not an error of the page.
page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
const lookups = [];
page.on('response', (r) => {
  if (/\/CodeSystem\/(\$|%24)lookup/.test(r.url())) lookups.push({ url: decodeURIComponent(r.url()), status: r.status() });
});

try {
  // 1. Search by name prefix, then by MRN.
  await page.goto(`${base}/`);
  check(page.url() === `${base}/app/`, 'a browser opening / lands on /app/', page.url());
  const search = page.locator('#patient-search');
  await search.fill(family.slice(0, 3));
  const link = page.locator(`#search-results a[href="/app/patient/${pid}"]`);
  await link.waitFor({ timeout: 10000 });
  check(true, `search by name prefix "${family.slice(0, 3)}" finds the patient`);
  await axeCheck(page, 'the patient search');
  await shot(page, 'search');
  await search.fill(patient.birthDate);
  await link.waitFor({ timeout: 10000 });
  check(true, `search by birth date ${patient.birthDate} finds the patient`);
  await search.fill(mrn);
  await page.waitForFunction(
    (href) => {
      const links = document.querySelectorAll('#search-results a');
      return links.length === 1 && links[0].getAttribute('href') === href;
    },
    `/app/patient/${pid}`,
    { timeout: 10000 },
  );
  check(true, `search by MRN ${mrn} finds the patient alone`);

  // 2. The chart, opened with the keyboard.
  await search.press('ArrowDown');
  check(await page.evaluate((href) => document.activeElement?.getAttribute('href') === href, `/app/patient/${pid}`), 'the down arrow moves to the result');
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-chart-ready]', { timeout: 20000 });
  const banner = await page.locator('[data-testid="banner-allergies"]').innerText();
  check(banner.includes(allergyText), 'the banner shows the allergy', banner);
  const e119 = page.locator('[data-testid="problems-active"] li[data-code="E11.9"], [data-testid="problems-resolved"] li[data-code="E11.9"]');
  const e119Text = (await e119.count()) ? await e119.first().innerText() : '';
  check(e119Text.includes('E11.9') && e119Text.includes('Type 2 diabetes mellitus without complications'), 'the problem list shows E11.9 with its display', e119Text.replace(/\n/g, ' | '));
  check(lookups.some((l) => l.url.includes('code=E11.9') && l.status === 200), 'the display of E11.9 comes from the terminology ($lookup answered 200)', `${lookups.length} lookups`);
  const bp = page.locator('figure[data-plot="Blood pressure"]');
  const points = Number(await bp.getAttribute('data-points'));
  const plotted = await bp.evaluate((f) => {
    const u = f.querySelector('.uplot');
    return u ? f.querySelectorAll('.u-over').length : 0;
  });
  const rows = await bp.locator('table.points tbody tr').count();
  check(points === bpReadings && rows === bpReadings && plotted === 1, 'the blood pressure plot has one point per reading, and its table one row per reading', `readings ${bpReadings}, plot ${points}, table rows ${rows}`);
  const labs = await page.locator('.lab-group').count();
  check(labs > 0, 'labs are grouped by test', `${labs} groups`);
  await axeCheck(page, 'the chart');
  await shot(page, 'chart');

  // 3. Phone width: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, 'the chart fits a phone-width screen', `${overflow} px too wide`);
  await shot(page, 'chart-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  // 4. The worklist: accept the GEM candidate of an ICD-9-CM 250.00 condition.
  const legacy = resources(await api(`/Condition?code=${encodeURIComponent(`${ICD9}|250.00`)}&_count=10`), 'Condition').find((c) => !c.code.coding.some((x) => x.system === ICD10));
  check(Boolean(legacy), 'the population has an ICD-9-CM 250.00 condition without ICD-10-CM');
  if (legacy) {
    const owner = legacy.subject.reference.split('/')[1];
    await page.goto(`${base}/app/worklist?patient=${owner}`);
    const item = page.locator(`li[data-condition="${legacy.id}"]`);
    await item.locator('input[type=radio][value="E11.9"]').waitFor({ timeout: 15000 });
    await axeCheck(page, 'the worklist');
    await shot(page, 'worklist');
    await item.locator('input[type=radio][value="E11.9"]').check();
    await item.getByRole('button', { name: 'Accept' }).click();
    await page.locator(`li[data-condition="${legacy.id}"] .done`).waitFor({ timeout: 10000 });
    const after = await api(`/Condition/${legacy.id}`);
    const coded = after.code.coding.find((c) => c.system === ICD10);
    check(coded?.code === 'E11.9' && after.code.coding.some((c) => c.system === ICD9), 'accepting adds the ICD-10-CM coding and keeps the ICD-9-CM one (read back through the API)', JSON.stringify(after.code.coding.map((c) => `${c.system.split('/').pop()}|${c.code}`)));
    const prov = resources(await api(`/Provenance?target=Condition/${legacy.id}`), 'Provenance');
    check(prov.length === 1 && prov[0].target[0].reference === `Condition/${legacy.id}/_history/${after.meta.versionId}`, 'a Provenance names the new version', prov[0]?.target?.[0]?.reference ?? 'none');
  }

  // 5. The terminology explorer, the feed and the audit trail.
  await page.goto(`${base}/app/terminology`);
  await page.locator('#lookup-code').fill('E11.9');
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.locator('.lookup table.kv').waitFor({ timeout: 10000 });
  const lookup = await page.locator('.lookup table.kv').innerText();
  check(lookup.includes('Type 2 diabetes mellitus without complications'), '$lookup in the explorer shows the display');
  await page.getByRole('button', { name: 'Translate' }).click();
  await page.locator('.translate table.kv').waitFor({ timeout: 10000 });
  check((await page.locator('.translate table.kv').innerText()).includes('E11.9'), '$translate of ICD-9-CM 250.00 proposes E11.9');
  await axeCheck(page, 'the terminology explorer');
  await shot(page, 'terminology');
  // 6. The HL7 v2 feed: an admission and a message that cannot be mapped, sent over MLLP; the
  // page shows each one's ACK, and what the admission created linked into the chart.
  if (mllpPort) {
    const stamp = Date.now().toString().slice(-8);
    const mrnV2 = `V2-${stamp}`;
    const admit = [
      `MSH|^~\\&|ADMIT|NORTH|VESTA|HOSP|20240105143000+0100||ADT^A01^ADT_A01|E2E-A${stamp}|P|2.5.1`,
      'EVN|A01|20240105143000+0100',
      `PID|1||${mrnV2}^^^NORTH^MR||Feedwell^Ada||19700304|F`,
      `PV1|1|I|WARD^12^1||||||||||||||||V-${stamp}^^^NORTH^VN|||||||||||||||||||||||||202401051400+0100`,
    ].join('\r');
    // An immunization without its administration date (RXA-3): a dead letter, answered AE.
    const broken = [
      `MSH|^~\\&|IIS|NORTH|VESTA|HOSP|20240105143000+0100||VXU^V04^VXU_V04|E2E-V${stamp}|P|2.5.1`,
      `PID|1||${mrnV2}^^^NORTH^MR||Feedwell^Ada`,
      'ORC|RE||9^NORTH',
      'RXA|0|1||',
    ].join('\r');
    const acks = await sendMllp(mllpPort, [admit, broken]);
    check(msa(acks[0]) === 'AA' && msa(acks[1]) === 'AE', 'MLLP (simple-hl7): the admission is answered AA, the broken message AE', acks.map(msa).join(', '));
    const v2Patient = resources(await api(`/Patient?identifier=${encodeURIComponent(mrnV2)}`), 'Patient')[0];
    check(Boolean(v2Patient), 'the admission created its Patient (read through the API)');
    await page.goto(`${base}/app/feed`);
    const item = page.locator(`li.message[data-control-id="E2E-A${stamp}"]`);
    await item.waitFor({ timeout: 10000 });
    const ackCode = await item.locator('.ack').getAttribute('data-ack-code');
    check(ackCode === 'AA', 'the feed shows the admission\'s ACK code', ackCode ?? 'none');
    const created = item.locator('.created li');
    const createdTypes = await created.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-type')));
    check(createdTypes.includes('Patient') && createdTypes.includes('Encounter'), 'the feed lists the Patient and Encounter the admission created', createdTypes.join(', '));
    const patientLink = item.locator('.created li[data-type="Patient"] a');
    const href = (await patientLink.count()) ? await patientLink.getAttribute('href') : '';
    check(v2Patient && href === `/app/patient/${v2Patient.id}`, 'the created Patient links to its chart', href);
    const encounterHref = await item.locator('.created li[data-type="Encounter"] a').first().getAttribute('href').catch(() => '');
    check(v2Patient && encounterHref === `/app/patient/${v2Patient.id}`, 'the created Encounter links to its patient\'s chart', encounterHref);
    const dead = page.locator(`li.message[data-control-id="E2E-V${stamp}"]`);
    const deadAck = (await dead.count()) ? await dead.locator('.ack').innerText() : '';
    check((await dead.locator('.ack').getAttribute('data-ack-code')) === 'AE' && deadAck.includes('RXA'), 'the dead letter shows its AE and why', deadAck);
    await axeCheck(page, 'the feed page');
    await shot(page, 'feed');
    if (v2Patient) {
      await patientLink.click();
      await page.waitForSelector('body[data-chart-ready]', { timeout: 20000 });
      const name = await page.locator('h1.patient-name').innerText();
      check(name.includes('Feedwell'), 'the link opens the chart of the patient the message created', name);
    }
  }
  for (const [name, p] of [...(mllpPort ? [] : [['feed', '/app/feed']]), ['audit', `/app/audit?patient=${pid}`]]) {
    await page.goto(`${base}${p}`);
    await page.waitForFunction(() => !document.querySelector('#main .status') || document.querySelector('#main .status').textContent !== 'Loading…', null, { timeout: 10000 });
    await page.waitForTimeout(200);
    await axeCheck(page, `the ${name} page`);
    await shot(page, name);
  }
  check(errors.length === 0, 'no script error in the pages', errors.join(' | '));
} catch (err) {
  check(false, 'the run finished', String(err?.stack ?? err));
  await shot(page, 'failure').catch(() => {});
} finally {
  await browser.close();
}
console.log(failures ? `${failures} check(s) failed; screenshots in ${out}` : `all checks passed; screenshots in ${out}`);
process.exit(failures ? 1 : 0);
