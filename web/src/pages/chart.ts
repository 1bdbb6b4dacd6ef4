// The chart of one patient: a banner, then problems, medications, allergies, vitals (trend plots
// with tables), labs grouped by test, encounters, immunizations and notes. Every section is its
// own bounded, paged search narrowed with _elements; sections render as their answers arrive, and
// the page is marked ready (data-chart-ready, performance mark "chart-ready") when all are in.
import { empty, errorBox, h, replace, section } from '../dom';
import {
  ICD10,
  ICD9,
  LOINC,
  lookupDisplay,
  nextLink,
  request,
  search,
  searchAll,
  entries,
  type Bundle,
  type CodeableConcept,
  type Resource,
} from '../fhir';
import { age, codingOf, conceptText, day, humanName, mrn, quantity, sexLabel } from '../format';
import { trendPlot, type Point } from '../plot';
import { pageReady } from '../router';

const VITALS = {
  bp: '85354-9',
  systolic: '8480-6',
  diastolic: '8462-4',
  heartRate: '8867-4',
  weight: '29463-7',
  bmi: '39156-5',
};
const HBA1C = '4548-4';
// The most points a plot asks for (each page one request of 200).
const MAX_POINTS = 2000;

function loinc(cc: CodeableConcept | undefined): string | undefined {
  return codingOf(cc, LOINC)?.code;
}

export async function renderChart(main: HTMLElement, params: Record<string, string>): Promise<void> {
  const id = params.id;
  document.body.removeAttribute('data-chart-ready');
  const banner = h('section', { class: 'banner', 'aria-label': 'Patient' }, h('h1', {}, 'Loading the chart…'));
  const slots = {
    problems: h('div', { class: 'slot' }),
    medications: h('div', { class: 'slot' }),
    allergies: h('div', { class: 'slot' }),
    vitals: h('div', { class: 'slot wide' }),
    labs: h('div', { class: 'slot wide' }),
    encounters: h('div', { class: 'slot' }),
    immunizations: h('div', { class: 'slot' }),
    notes: h('div', { class: 'slot' }),
  };
  replace(
    main,
    banner,
    h(
      'div',
      { class: 'chart' },
      slots.problems,
      slots.medications,
      slots.allergies,
      slots.vitals,
      slots.labs,
      slots.encounters,
      slots.immunizations,
      slots.notes,
    ),
  );
  const patientRef = `Patient/${id}`;

  const allergies = search('AllergyIntolerance', { patient: patientRef, _count: 50 }).then((b) =>
    entries(b, 'AllergyIntolerance'),
  );
  const jobs: Promise<unknown>[] = [
    Promise.all([request<Resource>(`/Patient/${encodeURIComponent(id)}`), allergies]).then(
      ([p, a]) => renderBanner(banner, p, a),
      (err) => replace(banner, h('h1', {}, 'Chart'), errorBox(`The patient could not be read: ${err.message}`)),
    ),
    guard(slots.allergies, 'Allergies', allergies.then((a) => renderAllergies(a))),
    guard(slots.problems, 'Problems', loadProblems(patientRef, id)),
    guard(slots.medications, 'Medications', loadMedications(patientRef)),
    guard(slots.vitals, 'Vital signs', loadVitals(patientRef)),
    guard(slots.labs, 'Labs', loadLabs(patientRef)),
    guard(slots.encounters, 'Encounters', loadEncounters(patientRef)),
    guard(slots.immunizations, 'Immunizations', loadImmunizations(patientRef)),
    guard(slots.notes, 'Notes and documents', loadNotes(patientRef)),
  ];
  await Promise.allSettled(jobs);
  document.body.setAttribute('data-chart-ready', 'true');
  performance.mark('chart-ready');
}

async function guard(slot: HTMLElement, title: string, content: Promise<HTMLElement>): Promise<void> {
  replace(slot, section(title, 'loading', h('p', { class: 'status' }, 'Loading…')));
  try {
    replace(slot, await content);
  } catch (err) {
    replace(slot, section(title, '', errorBox(`Could not load: ${(err as Error).message}`)));
  }
}

function renderBanner(banner: HTMLElement, p: Resource, allergies: Resource[]): void {
  const name = humanName(p);
  const active = allergies.filter((a) => conceptText(a.clinicalStatus) !== 'inactive' && a.clinicalStatus?.coding?.[0]?.code !== 'inactive');
  replace(
    banner,
    h('h1', { class: 'patient-name' }, name),
    h(
      'dl',
      { class: 'facts' },
      fact('Age', age(p.birthDate) || '?'),
      fact('Sex', sexLabel(p.gender)),
      fact('Born', p.birthDate ?? '?'),
      fact('MRN', mrn(p) ?? '-'),
      p.deceasedDateTime ? fact('Died', day(p.deceasedDateTime)) : null,
    ),
    h(
      'p',
      { class: active.length ? 'allergy-banner has-allergies' : 'allergy-banner', 'data-testid': 'banner-allergies' },
      h('strong', {}, 'Allergies: '),
      active.length ? active.map((a) => conceptText(a.code)).join(', ') : 'No known allergies',
    ),
    h('p', { class: 'links' }, h('a', { href: `/app/worklist?patient=${p.id}`, 'data-link': true }, 'ICD-10 worklist'), ' · ', h('a', { href: `/app/audit?patient=${p.id}`, 'data-link': true }, 'Audit trail'), ' · ', h('a', { href: `/app/measures?patient=${p.id}`, 'data-link': true }, 'Quality measures')),
  );
  pageReady(name);
}

function fact(label: string, value: string): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function renderAllergies(list: Resource[]): HTMLElement {
  if (list.length === 0) return section('Allergies', 'allergies', empty('No known allergies.'));
  return section(
    'Allergies',
    'allergies',
    h(
      'ul',
      { class: 'rows' },
      list.map((a) =>
        h(
          'li',
          {},
          h('span', { class: 'primary' }, conceptText(a.code)),
          h(
            'span',
            { class: 'secondary' },
            [a.criticality ? `criticality ${a.criticality}` : '', (a.reaction ?? []).flatMap((r: Resource) => (r.manifestation ?? []).map(conceptText)).join(', '), day(a.recordedDate ?? a.onsetDateTime)]
              .filter(Boolean)
              .join(' · '),
          ),
        ),
      ),
    ),
  );
}

async function loadProblems(patient: string, id: string): Promise<HTMLElement> {
  const conditions = await searchAll('Condition', {
    patient,
    _count: 200,
    _elements: 'code,clinicalStatus,onset,abatement,category,recordedDate',
  }, 1000);
  const rows = await Promise.all(conditions.map(problemRow));
  const status = (c: Resource) => c.clinicalStatus?.coding?.[0]?.code ?? '';
  const isActive = (c: Resource) => ['active', 'recurrence', 'relapse'].includes(status(c));
  const active = rows.filter((_, i) => isActive(conditions[i]));
  const resolved = rows.filter((_, i) => !isActive(conditions[i]));
  const needsMigration = conditions.some((c) => codingOf(c.code, ICD9) && !codingOf(c.code, ICD10));
  return section(
    'Problems',
    'problems',
    h('h3', {}, `Active (${active.length})`),
    active.length ? h('ul', { class: 'rows', 'data-testid': 'problems-active' }, active) : empty('No active problems.'),
    h(
      'details',
      {},
      h('summary', {}, `Resolved (${resolved.length})`),
      resolved.length ? h('ul', { class: 'rows', 'data-testid': 'problems-resolved' }, resolved) : empty('None.'),
    ),
    needsMigration
      ? h('p', { class: 'note' }, 'Some problems are coded in ICD-9-CM only: ', h('a', { href: `/app/worklist?patient=${id}`, 'data-link': true }, 'review them in the ICD-10 worklist'), '.')
      : null,
  );
}

async function problemRow(c: Resource): Promise<HTMLElement> {
  const icd10 = codingOf(c.code, ICD10);
  const icd9 = codingOf(c.code, ICD9);
  let codeLine: HTMLElement;
  if (icd10?.code) {
    // The display from the terminology ($lookup), not the one the record carries.
    const display = (await lookupDisplay(ICD10, icd10.code)) ?? icd10.display ?? '';
    codeLine = h('span', { class: 'code' }, h('abbr', { title: 'ICD-10-CM' }, icd10.code), ' ', display);
  } else if (icd9?.code) {
    codeLine = h('span', { class: 'code legacy' }, h('abbr', { title: 'ICD-9-CM' }, `ICD-9 ${icd9.code}`), ' ', icd9.display ?? '', ' ', h('span', { class: 'badge' }, 'needs ICD-10-CM'));
  } else {
    codeLine = h('span', { class: 'code' }, c.code?.coding?.[0]?.code ?? '');
  }
  const dates = [c.onsetDateTime ? `since ${day(c.onsetDateTime)}` : '', c.abatementDateTime ? `resolved ${day(c.abatementDateTime)}` : ''].filter(Boolean).join(' · ');
  return h('li', { 'data-code': icd10?.code ?? icd9?.code ?? '' }, h('span', { class: 'primary' }, conceptText(c.code)), codeLine, h('span', { class: 'secondary' }, dates));
}

async function loadMedications(patient: string): Promise<HTMLElement> {
  const bundle = await search('MedicationRequest', {
    patient,
    _count: 50,
    _sort: '-authoredon',
    _elements: 'medication,status,authoredOn,dosageInstruction',
  });
  const meds = entries(bundle, 'MedicationRequest');
  if (meds.length === 0) return section('Medications', 'medications', empty('No medications.'));
  const active = meds.filter((m) => m.status === 'active');
  const other = meds.filter((m) => m.status !== 'active');
  const row = (m: Resource) =>
    h(
      'li',
      {},
      h('span', { class: 'primary' }, conceptText(m.medicationCodeableConcept)),
      h('span', { class: 'secondary' }, [m.dosageInstruction?.[0]?.text, `${m.status} · ${day(m.authoredOn)}`].filter(Boolean).join(' · ')),
    );
  return section(
    'Medications',
    'medications',
    h('h3', {}, `Active (${active.length})`),
    active.length ? h('ul', { class: 'rows' }, active.map(row)) : empty('No active medications.'),
    h('details', {}, h('summary', {}, `Earlier (${other.length}${nextLink(bundle) ? '+' : ''})`), h('ul', { class: 'rows' }, other.map(row))),
  );
}

async function loadVitals(patient: string): Promise<HTMLElement> {
  const codes = [VITALS.bp, VITALS.heartRate, VITALS.weight, VITALS.bmi].map((c) => `${LOINC}|${c}`).join(',');
  const obs = await searchAll('Observation', {
    patient,
    code: codes,
    _count: 200,
    _elements: 'code,effective,value,component',
  }, MAX_POINTS);
  const byCode = new Map<string, Resource[]>();
  for (const o of obs) {
    const c = loinc(o.code);
    if (!c) continue;
    if (!byCode.has(c)) byCode.set(c, []);
    byCode.get(c)!.push(o);
  }
  const single = (code: string): Point[] =>
    (byCode.get(code) ?? []).filter((o) => o.effectiveDateTime).map((o) => ({ time: o.effectiveDateTime, values: [o.valueQuantity?.value ?? null] }));
  const component = (o: Resource, code: string): number | null =>
    (o.component as Resource[] | undefined)?.find((c) => loinc(c.code) === code)?.valueQuantity?.value ?? null;
  const bp: Point[] = (byCode.get(VITALS.bp) ?? [])
    .filter((o) => o.effectiveDateTime)
    .map((o) => ({ time: o.effectiveDateTime, values: [component(o, VITALS.systolic), component(o, VITALS.diastolic)] }));
  return section(
    'Vital signs',
    'vitals',
    h(
      'div',
      { class: 'plots' },
      trendPlot('Blood pressure', 'mm[Hg]', [
        { label: 'Systolic', color: '#b3261e' },
        { label: 'Diastolic', color: '#1f5fa8' },
      ], bp),
      trendPlot('Heart rate', '/min', [{ label: 'Heart rate', color: '#7a2e8e' }], single(VITALS.heartRate)),
      trendPlot('Weight', 'kg', [{ label: 'Weight', color: '#2d6a2d' }], single(VITALS.weight)),
      trendPlot('BMI', 'kg/m2', [{ label: 'BMI', color: '#8a5a00' }], single(VITALS.bmi)),
    ),
  );
}

// An abnormal flag: the observation's interpretation (v3 ObservationInterpretation), else its
// value against the reference range.
function flag(o: Resource): string {
  const interp = o.interpretation?.[0]?.coding?.[0]?.code as string | undefined;
  if (interp && interp !== 'N') return interp;
  const v = o.valueQuantity?.value as number | undefined;
  const range = o.referenceRange?.[0];
  if (v === undefined || !range) return '';
  if (range.low?.value !== undefined && v < range.low.value) return 'L';
  if (range.high?.value !== undefined && v > range.high.value) return 'H';
  return '';
}

function rangeText(o: Resource): string {
  const r = o.referenceRange?.[0];
  if (!r) return '';
  if (r.text) return r.text;
  const low = r.low?.value;
  const high = r.high?.value;
  if (low !== undefined && high !== undefined) return `${low}–${high}`;
  if (low !== undefined) return `≥ ${low}`;
  if (high !== undefined) return `≤ ${high}`;
  return '';
}

async function loadLabs(patient: string): Promise<HTMLElement> {
  const labs = await searchAll('Observation', {
    patient,
    category: 'laboratory',
    _count: 200,
    _sort: '-date',
    _elements: 'code,effective,value,referenceRange,interpretation',
  }, MAX_POINTS);
  if (labs.length === 0) return section('Labs', 'labs', empty('No lab results.'));
  const groups = new Map<string, Resource[]>();
  for (const o of labs) {
    const key = loinc(o.code) ?? conceptText(o.code);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(o);
  }
  const byDate = (a: Resource, b: Resource) => (b.effectiveDateTime ?? '').localeCompare(a.effectiveDateTime ?? '');
  const blocks: HTMLElement[] = [];
  for (const [code, list] of groups) {
    list.sort(byDate);
    const latest = list[0];
    const f = flag(latest);
    const rows = list.map((o) => {
      const fl = flag(o);
      return h(
        'tr',
        { class: fl ? 'abnormal' : '' },
        h('th', { scope: 'row' }, day(o.effectiveDateTime)),
        h('td', {}, o.valueQuantity ? quantity(o.valueQuantity) : conceptText(o.valueCodeableConcept)),
        h('td', {}, rangeText(o)),
        h('td', {}, fl ? h('span', { class: `flag flag-${fl}`, title: flagTitle(fl) }, fl) : ''),
      );
    });
    blocks.push(
      h(
        'div',
        { class: 'lab-group', 'data-loinc': code },
        h('h3', {}, conceptText(latest.code)),
        h(
          'p',
          { class: 'latest' },
          latest.valueQuantity || latest.valueCodeableConcept ? 'Latest ' : 'Panel (its results are listed by test) ',
          h('strong', {}, latest.valueQuantity ? quantity(latest.valueQuantity) : conceptText(latest.valueCodeableConcept)),
          ` on ${day(latest.effectiveDateTime)}`,
          rangeText(latest) ? ` (reference ${rangeText(latest)})` : '',
          f ? [' ', h('span', { class: `flag flag-${f}`, title: flagTitle(f) }, flagTitle(f))] : '',
        ),
        code === HBA1C
          ? trendPlot('HbA1c', '%', [{ label: 'HbA1c', color: '#b3261e' }], list.filter((o) => o.effectiveDateTime).map((o) => ({ time: o.effectiveDateTime, values: [o.valueQuantity?.value ?? null] })))
          : null,
        h(
          'details',
          {},
          h('summary', {}, `All ${list.length} result${list.length === 1 ? '' : 's'}`),
          h(
            'table',
            { class: 'lab-table' },
            h('caption', {}, conceptText(latest.code)),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Date'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Reference range'), h('th', { scope: 'col' }, 'Flag'))),
            h('tbody', {}, rows),
          ),
        ),
      ),
    );
  }
  return section('Labs', 'labs', h('div', { class: 'lab-groups' }, blocks));
}

function flagTitle(f: string): string {
  return ({ H: 'High', L: 'Low', HH: 'Critically high', LL: 'Critically low', A: 'Abnormal', AA: 'Critically abnormal' } as Record<string, string>)[f] ?? f;
}

function encounterItem(e: Resource): HTMLElement {
  const cls = e.class?.display ?? e.class?.code ?? '';
  return h(
    'li',
    {},
    h('time', { datetime: e.period?.start ?? '' }, day(e.period?.start)),
    h('span', { class: 'primary' }, conceptText(e.type?.[0]) || cls),
    h('span', { class: 'secondary' }, [cls, (e.reasonCode ?? []).map(conceptText).join(', ')].filter(Boolean).join(' · ')),
  );
}

async function loadEncounters(patient: string): Promise<HTMLElement> {
  const first = await search('Encounter', {
    patient,
    _count: 20,
    _sort: '-date',
    _elements: 'class,type,period,reasonCode,status',
  });
  const list = h('ol', { class: 'timeline' }, entries(first, 'Encounter').map(encounterItem));
  const content: HTMLElement[] = [list];
  let next = nextLink(first);
  if (entries(first, 'Encounter').length === 0) return section('Encounters', 'encounters', empty('No encounters.'));
  if (next) {
    const more = h('button', { type: 'button', class: 'more' }, 'Show earlier encounters');
    more.addEventListener('click', async () => {
      if (!next) return;
      more.disabled = true;
      const page = await request<Bundle>(next);
      for (const e of entries(page, 'Encounter')) list.appendChild(encounterItem(e));
      next = nextLink(page);
      more.disabled = false;
      if (!next) more.remove();
    });
    content.push(more);
  }
  return section('Encounters', 'encounters', ...content);
}

async function loadImmunizations(patient: string): Promise<HTMLElement> {
  const list = entries(
    await search('Immunization', { patient, _count: 100, _sort: '-date', _elements: 'vaccineCode,occurrence,status' }),
    'Immunization',
  );
  if (list.length === 0) return section('Immunizations', 'immunizations', empty('No immunizations recorded.'));
  return section(
    'Immunizations',
    'immunizations',
    h(
      'ul',
      { class: 'rows' },
      list.map((i) => h('li', {}, h('span', { class: 'primary' }, conceptText(i.vaccineCode)), h('span', { class: 'secondary' }, `${day(i.occurrenceDateTime)}${i.status && i.status !== 'completed' ? ` · ${i.status}` : ''}`))),
    ),
  );
}

function decodeBase64Text(data: string): string {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

async function loadNotes(patient: string): Promise<HTMLElement> {
  const docs = entries(
    await search('DocumentReference', { patient, _count: 20, _sort: '-date' }),
    'DocumentReference',
  );
  if (docs.length === 0) return section('Notes and documents', 'notes', empty('No notes or documents.'));
  return section(
    'Notes and documents',
    'notes',
    docs.map((d) => {
      const att = d.content?.[0]?.attachment ?? {};
      const text = att.data && String(att.contentType ?? '').startsWith('text/') ? decodeBase64Text(att.data) : d.description ?? '';
      return h('article', { class: 'note-item' }, h('h3', {}, conceptText(d.type) || att.title || 'Document'), h('p', { class: 'secondary' }, day(d.date)), h('pre', { class: 'note-text' }, text || '(no text)'));
    }),
  );
}
