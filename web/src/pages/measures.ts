// Quality measures (docs/measures.md, "Evaluating a measure"): the stored Measures; one of them
// evaluated over a measurement period with Measure/[id]/$evaluate-measure
// (https://hl7.org/fhir/R4/measure-operation-evaluate-measure.html). With reportType=subject-list
// the MeasureReport's populations point at contained Lists of their patients
// (https://hl7.org/fhir/R4/measurereport-definitions.html#MeasureReport.group.population.subjectResults),
// shown page by page with the patients' names (one Patient?_id=... search per page), each linked to
// the chart. The score is the numerator over the denominator, read with the Measure's
// improvementNotation (https://hl7.org/fhir/R4/measure-definitions.html#Measure.improvementNotation):
// for an inverse measure a lower score is better. Stratifiers and supplemental data (contained
// Observations, one per value, named by the cqfm-measureInfo extension) as tables. With
// ?patient=[id] (from the chart), the patient's own report (reportType=subject): the populations
// the patient is in.
import { empty, errorBox, h, replace, section, uniqueId } from '../dom';
import { FhirError, request, search, searchAll, url, type CodeableConcept, type Resource } from '../fhir';
import { humanName, referenceId, sexLabel } from '../format';
import { pageReady } from '../router';

const MEASURE_INFO = 'http://hl7.org/fhir/us/cqfmeasures/StructureDefinition/cqfm-measureInfo';
// Patients named per request (one Patient?_id= search per page of a population's list).
const PAGE = 50;

// https://hl7.org/fhir/R4/codesystem-measure-population.html
const POPULATION_LABELS: Record<string, string> = {
  'initial-population': 'Initial population',
  numerator: 'Numerator',
  'numerator-exclusion': 'Numerator exclusion',
  denominator: 'Denominator',
  'denominator-exclusion': 'Denominator exclusion',
  'denominator-exception': 'Denominator exception',
  'measure-population': 'Measure population',
  'measure-population-exclusion': 'Measure population exclusion',
  'measure-observation': 'Measure observation',
};

interface ReportPopulation {
  code?: CodeableConcept;
  count?: number;
  subjectResults?: { reference?: string };
}
interface Stratum {
  value?: CodeableConcept;
  population?: ReportPopulation[];
  measureScore?: { value?: number };
}
interface ReportGroup {
  population?: ReportPopulation[];
  measureScore?: { value?: number };
  stratifier?: { code?: CodeableConcept[]; stratum?: Stratum[] }[];
}

function populationCode(p: ReportPopulation): string {
  return p.code?.coding?.[0]?.code ?? '';
}

function populationLabel(code: string): string {
  return POPULATION_LABELS[code] ?? code;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function percent(score: number): string {
  return `${(score * 100).toFixed(1)} %`;
}

function codeOf(cc: CodeableConcept | undefined): string | undefined {
  return cc?.coding?.[0]?.code;
}

// "CMS122" from the eCQM identifier ("122FHIR" in the .../Identifier/cms system), when present.
function cmsId(m: Resource): string | undefined {
  const id = ((m.identifier ?? []) as { system?: string; value?: string }[]).find((i) => i.system?.endsWith('/cms'));
  return id?.value ? `CMS${id.value.replace(/FHIR$/, '')}` : undefined;
}

function measureTitle(m: Resource): string {
  return String(m.title ?? m.name ?? m.id).replace(/\s*FHIR$/, '');
}

function measureLabel(m: Resource): string {
  const cms = cmsId(m);
  return `${cms ? `${cms}: ` : ''}${measureTitle(m)}${m.version ? ` (${m.version})` : ''}`;
}

// What the score means, from Measure.improvementNotation (increase | decrease).
function improvementText(m: Resource): string {
  switch (codeOf(m.improvementNotation)) {
    case 'increase':
      return 'A higher score is better (the Measure\u2019s improvement notation: increase).';
    case 'decrease':
      return 'A lower score is better: an inverse measure (the Measure\u2019s improvement notation: decrease).';
    default:
      return 'The Measure does not say whether a higher or a lower score is better (no improvement notation).';
  }
}

// The last calendar year, the default measurement period.
function lastYear(): { start: string; end: string } {
  const y = new Date().getFullYear() - 1;
  return { start: `${y}-01-01`, end: `${y}-12-31` };
}

function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLElement {
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

export async function renderMeasures(main: HTMLElement, _p: Record<string, string>, query: URLSearchParams): Promise<void> {
  const patient = query.get('patient') ?? '';
  const body = h('div', { class: 'measures-page' }, h('p', { class: 'status' }, 'Loading the measures…'));
  replace(
    main,
    h('h1', {}, patient ? 'Quality measures for a patient' : 'Quality measures'),
    h(
      'p',
      { class: 'lead' },
      patient
        ? 'The populations of a measure this patient falls into over a measurement period ($evaluate-measure for one subject).'
        : 'A measure evaluated over every patient of the server for a measurement period ($evaluate-measure): its populations with their counts and patients, the score, the stratifiers and the supplemental data.',
    ),
    body,
  );
  pageReady(patient ? 'Quality measures for a patient' : 'Quality measures');
  if (patient) {
    // Whose report it is: the patient's name in the heading.
    void request(url(`/Patient/${encodeURIComponent(patient)}`, { _elements: 'name' }))
      .then((p) => {
        const h1 = main.querySelector('h1');
        if (h1) h1.textContent = `Quality measures for ${humanName(p)}`;
      })
      .catch(() => undefined);
  }
  let measures: Resource[];
  try {
    measures = await searchAll(
      'Measure',
      { _elements: 'url,version,name,title,description,identifier,improvementNotation,scoring,group', _count: 100 },
      500,
    );
  } catch (err) {
    replace(body, errorBox(`The measures could not be loaded: ${(err as Error).message}`));
    return;
  }
  if (measures.length === 0) {
    replace(body, noMeasures());
    return;
  }
  measures.sort((a, b) => measureLabel(a).localeCompare(measureLabel(b)));

  const period = lastYear();
  const select = h(
    'select',
    { id: 'measure-select' },
    measures.map((m) => h('option', { value: m.id, selected: m.id === query.get('measure') }, measureLabel(m))),
  );
  const periodHint = uniqueId('hint');
  const start = h('input', { id: 'period-start', type: 'date', required: true, value: query.get('start') ?? period.start, 'aria-describedby': periodHint });
  const end = h('input', { id: 'period-end', type: 'date', required: true, value: query.get('end') ?? period.end, 'aria-describedby': periodHint });
  const about = h('div', { class: 'measure-about' });
  const result = h('div', { class: 'measure-result', 'aria-live': 'polite' });
  const chosen = () => measures.find((m) => m.id === select.value) ?? measures[0];
  const describe = () => {
    const m = chosen();
    replace(
      about,
      m.description ? h('p', { class: 'measure-description' }, String(m.description)) : null,
      h('p', { class: 'secondary' }, `Scoring: ${codeOf(m.scoring) ?? 'not stated'}. `, h('span', { class: 'improvement' }, improvementText(m))),
    );
  };
  select.addEventListener('change', describe);
  describe();

  const evaluate = async (e?: Event) => {
    e?.preventDefault();
    const m = chosen();
    if (!start.value || !end.value || start.value > end.value) {
      replace(result, errorBox('The measurement period needs a start and an end, the start first.'));
      return;
    }
    // The choice is kept in the address, so that it can be linked to and survives a reload.
    const q = new URLSearchParams({ measure: m.id, start: start.value, end: end.value });
    if (patient) q.set('patient', patient);
    history.replaceState(null, '', `${location.pathname}?${q}`);
    replace(result, h('p', { class: 'status' }, `Evaluating ${measureTitle(m)} from ${start.value} to ${end.value}…`));
    const began = performance.now();
    try {
      const report = await request(
        url(`/Measure/${encodeURIComponent(m.id)}/$evaluate-measure`, {
          periodStart: start.value,
          periodEnd: end.value,
          reportType: patient ? 'subject' : 'subject-list',
          subject: patient ? `Patient/${patient}` : undefined,
        }),
      );
      const seconds = ((performance.now() - began) / 1000).toFixed(1);
      if (patient) {
        replace(result, renderIndividual(m, report, seconds));
      } else {
        const out = renderReport(m, report, seconds);
        replace(result, out.element);
        await out.lists;
      }
      result.querySelector('.measure-report')?.setAttribute('data-ready', 'true');
    } catch (err) {
      const message = (err as Error).message;
      replace(
        result,
        errorBox(`The measure could not be evaluated: ${message}`),
        err instanceof FhirError && err.status === 404 ? h('p', { class: 'hint' }, 'A measure needs its libraries and the value sets its logic uses on the server (docs/measures.md, \u201cLoading a measure\u201d).') : null,
      );
    }
  };

  replace(
    body,
    h(
      'section',
      { class: 'card measure-form', 'aria-labelledby': 'measure-form-title' },
      h('h2', { id: 'measure-form-title' }, 'Measure and period'),
      h(
        'form',
        { onsubmit: evaluate },
        field('Measure', select),
        field('Period start', start),
        field('Period end', end),
        h('button', { type: 'submit', class: 'primary-button' }, 'Evaluate'),
      ),
      h('p', { class: 'hint', id: periodHint }, 'The measurement period, both days included; by default the last calendar year.'),
      about,
    ),
    patient ? h('p', { class: 'links' }, h('a', { href: `/app/patient/${encodeURIComponent(patient)}` }, 'Back to the chart')) : null,
    result,
  );
  if (query.get('measure')) await evaluate();
}

function noMeasures(): HTMLElement {
  return section(
    'No measure on this server',
    'no-measures',
    h(
      'p',
      {},
      'A measure needs its Measure resource, its Library resources (its own and every library it includes, with their ELM JSON) and the ValueSets its logic uses, with their expansions. Store them as any resource, with PUT or as a transaction Bundle:',
    ),
    h(
      'pre',
      { class: 'note-text' },
      [
        'for f in Library-*.json; do curl -X PUT "$BASE/Library/$(jq -r .id $f)" -H \'Content-Type: application/fhir+json\' --data-binary @$f; done',
        'curl -X PUT "$BASE/Measure/CMS122" -H \'Content-Type: application/fhir+json\' --data-binary @Measure-CMS122.json',
        'curl -X POST "$BASE/" -H \'Content-Type: application/fhir+json\' --data-binary @valuesets-CMS122-bundle.json',
      ].join('\n'),
    ),
    h(
      'p',
      { class: 'hint' },
      'docs/measures.md (\u201cLoading a measure\u201d) says more. make run loads the measures of the eCQM test data into its demo store when that data is beside the checkout (VESTA_DEMO_MEASURES, docs/web-app.md).',
    ),
  );
}

// The report's contained resources by id ("#list-0-numerator" → the List).
function containedById(report: Resource): Map<string, Resource> {
  return new Map(((report.contained ?? []) as Resource[]).map((r) => [r.id, r]));
}

function scoreBlock(m: Resource, group: ReportGroup): HTMLElement {
  const score = group.measureScore?.value;
  const counts = new Map((group.population ?? []).map((p) => [populationCode(p), p.count ?? 0]));
  const scoring = codeOf(m.scoring);
  let detail: string;
  if (score !== undefined) {
    detail = counts.has('numerator') && counts.has('denominator')
      ? `Numerator ${counts.get('numerator')} of denominator ${counts.get('denominator')} (exclusions and exceptions removed).`
      : 'Numerator over denominator.';
  } else if (scoring === 'cohort') {
    detail = 'A cohort measure has no score: its result is the initial population.';
  } else {
    detail = 'No score: the denominator is empty for this period.';
  }
  return h(
    'div',
    { class: 'score' },
    h('p', { class: 'score-value' }, h('span', { class: 'score-label' }, 'Score '), h('strong', { 'data-testid': 'measure-score' }, score !== undefined ? percent(score) : '\u2014')),
    h('p', { class: 'secondary' }, detail),
    h('p', { class: 'secondary improvement' }, improvementText(m)),
  );
}

// The populations with their counts: a table, with a bar per row (the same figure, drawn) against
// the initial population.
function populationTable(group: ReportGroup, gi: number, caption: string): HTMLElement {
  const pops = group.population ?? [];
  const base = Math.max(1, ...pops.filter((p) => populationCode(p) === 'initial-population').map((p) => p.count ?? 0));
  return h(
    'table',
    { class: 'populations', 'data-group': gi },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Population'), h('th', { scope: 'col' }, 'Patients'), h('th', { scope: 'col' }, 'Of the initial population'))),
    h(
      'tbody',
      {},
      pops.map((p) => {
        const code = populationCode(p);
        const n = p.count ?? 0;
        const share = Math.min(1, n / base);
        return h(
          'tr',
          { 'data-population': code },
          h('th', { scope: 'row' }, p.subjectResults ? h('a', { href: `#patients-${gi}-${code}` }, populationLabel(code)) : populationLabel(code)),
          h('td', { class: 'count' }, String(n)),
          h('td', {}, h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { style: `width: ${(share * 100).toFixed(1)}%` })), ` ${percent(share)}`),
        );
      }),
    ),
  );
}

function stratifierTables(group: ReportGroup): HTMLElement | null {
  const strats = group.stratifier ?? [];
  if (strats.length === 0) return null;
  return h(
    'div',
    { class: 'stratifiers' },
    h('h3', {}, 'Stratifiers'),
    strats.map((s) => {
      const name = s.code?.[0]?.text ?? codeOf(s.code?.[0]) ?? 'Stratifier';
      const strata = s.stratum ?? [];
      const codes = [...new Set(strata.flatMap((st) => (st.population ?? []).map(populationCode)))];
      return h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'stratifier' },
          h('caption', {}, `Stratifier: ${name}`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Stratum'), codes.map((c) => h('th', { scope: 'col' }, populationLabel(c))), h('th', { scope: 'col' }, 'Score'))),
          h(
            'tbody',
            {},
            strata.length
              ? strata.map((st) =>
                  h(
                    'tr',
                    {},
                    h('th', { scope: 'row' }, st.value?.text ?? codeOf(st.value) ?? ''),
                    codes.map((c) => h('td', {}, String((st.population ?? []).find((p) => populationCode(p) === c)?.count ?? 0))),
                    h('td', {}, st.measureScore?.value !== undefined ? percent(st.measureScore.value) : '\u2014'),
                  ),
                )
              : h('tr', {}, h('td', { colspan: codes.length + 2 }, 'No patient in any stratum.')),
          ),
        ),
      );
    }),
  );
}

// Supplemental data: the contained Observations, one per value of each expression
// (cqfm-measureInfo's populationId), with the number of evaluated patients that have it.
function supplementalData(report: Resource): HTMLElement | null {
  const byExpression = new Map<string, Resource[]>();
  for (const r of (report.contained ?? []) as Resource[]) {
    if (r.resourceType !== 'Observation') continue;
    const info = ((r.extension ?? []) as Resource[]).find((e) => e.url === MEASURE_INFO);
    const name = ((info?.extension ?? []) as Resource[]).find((e) => e.url === 'populationId')?.valueString ?? 'Supplemental data';
    byExpression.set(name, [...(byExpression.get(name) ?? []), r]);
  }
  if (byExpression.size === 0) return null;
  return section(
    'Supplemental data',
    'supplemental',
    h('p', { class: 'secondary' }, 'Every evaluated patient, counted by value.'),
    h(
      'div',
      { class: 'sde-tables' },
      [...byExpression.entries()].map(([name, obs]) =>
        h(
          'table',
          { class: 'sde', 'data-sde': name },
          h('caption', {}, name.replace(/^SDE /, '')),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Patients'))),
          h(
            'tbody',
            {},
            obs.map((o) => {
              const c = o.code?.coding?.[0];
              return h('tr', {}, h('th', { scope: 'row' }, o.code?.text ?? c?.display ?? c?.code ?? ''), h('td', {}, String(o.valueInteger ?? '')));
            }),
          ),
        ),
      ),
    ),
  );
}

// One population's patients, PAGE at a time: the List's references, named by one
// Patient?_id=...&_elements=name,birthDate,gender search per page, each linked to the chart.
function patientList(label: string, id: string, list: Resource | undefined): { element: HTMLElement; loaded: Promise<void> } {
  const refs = ((list?.entry ?? []) as { item?: { reference?: string } }[])
    .map((e) => e.item?.reference ?? '')
    .filter((r) => r.startsWith('Patient/'))
    .map(referenceId);
  const headingId = uniqueId('pl');
  const element = h('section', { class: 'patient-list', id, 'aria-labelledby': headingId }, h('h3', { id: headingId }, `${label}: ${plural(refs.length, 'patient')}`));
  if (refs.length === 0) {
    element.appendChild(empty('No patient.'));
    return { element, loaded: Promise.resolve() };
  }
  const tbody = h('tbody', {});
  const table = h(
    'table',
    { class: 'patients' },
    h('caption', { class: 'visually-hidden' }, `Patients in the ${label.toLowerCase()}`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Patient'), h('th', { scope: 'col' }, 'Born'), h('th', { scope: 'col' }, 'Sex'))),
    tbody,
  );
  element.appendChild(h('div', { class: 'scroll' }, table));
  const more = h('button', { type: 'button', class: 'more' }, 'Show more patients');
  let shown = 0;
  const loadPage = async () => {
    const ids = refs.slice(shown, shown + PAGE);
    shown += ids.length;
    more.disabled = true;
    try {
      const bundle = await search('Patient', { _id: ids.join(','), _elements: 'name,birthDate,gender', _count: ids.length });
      const byId = new Map((bundle.entry ?? []).map((e) => [e.resource?.id ?? '', e.resource]));
      for (const pid of ids) {
        const p = byId.get(pid);
        tbody.appendChild(
          h(
            'tr',
            { 'data-patient': pid },
            h('td', {}, h('a', { href: `/app/patient/${encodeURIComponent(pid)}` }, p ? humanName(p) : `Patient/${pid}`)),
            h('td', {}, p?.birthDate ?? ''),
            h('td', {}, p ? sexLabel(p.gender) : 'not readable'),
          ),
        );
      }
    } catch (err) {
      element.appendChild(errorBox(`The patients could not be read: ${(err as Error).message}`));
    }
    more.disabled = false;
    if (shown >= refs.length) more.remove();
  };
  more.addEventListener('click', () => void loadPage());
  if (refs.length > PAGE) element.appendChild(more);
  return { element, loaded: loadPage() };
}

function reportHeader(m: Resource, report: Resource, seconds: string): HTMLElement {
  return h(
    'p',
    { class: 'secondary' },
    `${measureLabel(m)}, ${report.period?.start ?? '?'} to ${report.period?.end ?? '?'}: evaluated in ${seconds} s. `,
    h('a', { href: url(`/Measure/${encodeURIComponent(m.id)}/$evaluate-measure`, { periodStart: report.period?.start, periodEnd: report.period?.end, reportType: 'subject-list' }), target: '_blank', rel: 'noopener' }, 'The MeasureReport'),
  );
}

function groupTitle(m: Resource, gi: number, groups: number): string {
  const description = (m.group as Resource[] | undefined)?.[gi]?.description as string | undefined;
  if (groups === 1) return description ? `Populations: ${description}` : 'Populations';
  return `Group ${gi + 1}${description ? `: ${description}` : ''}`;
}

function renderReport(m: Resource, report: Resource, seconds: string): { element: HTMLElement; lists: Promise<unknown> } {
  const contained = containedById(report);
  const groups = (report.group ?? []) as ReportGroup[];
  const loads: Promise<void>[] = [];
  const groupSections = groups.map((g, gi) => {
    const lists = (g.population ?? []).map((p) => {
      const code = populationCode(p);
      const ref = p.subjectResults?.reference?.replace(/^#/, '');
      const pl = patientList(populationLabel(code), `patients-${gi}-${code}`, ref ? contained.get(ref) : undefined);
      pl.element.setAttribute('data-population', code);
      loads.push(pl.loaded);
      return pl.element;
    });
    return section(
      groupTitle(m, gi, groups.length),
      'measure-group',
      h('div', { class: 'group-summary' }, scoreBlock(m, g), populationTable(g, gi, `Patients per population, ${report.period?.start} to ${report.period?.end}`)),
      stratifierTables(g),
      h('div', { class: 'patient-lists' }, h('h3', {}, 'Patients by population'), lists),
    );
  });
  const element = h('div', { class: 'measure-report', 'data-measure': m.id }, reportHeader(m, report, seconds), groupSections, supplementalData(report));
  return { element, lists: Promise.all(loads) };
}

// The patient's individual report: whether the patient is in each population.
function renderIndividual(m: Resource, report: Resource, seconds: string): HTMLElement {
  const groups = (report.group ?? []) as ReportGroup[];
  return h(
    'div',
    { class: 'measure-report individual', 'data-measure': m.id },
    h('p', { class: 'secondary' }, `${measureLabel(m)}, ${report.period?.start ?? '?'} to ${report.period?.end ?? '?'}: evaluated in ${seconds} s.`),
    groups.map((g, gi) =>
      section(
        groupTitle(m, gi, groups.length),
        'measure-group',
        h(
          'table',
          { class: 'populations' },
          h('caption', {}, 'The populations this patient is in'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Population'), h('th', { scope: 'col' }, 'This patient'))),
          h(
            'tbody',
            {},
            (g.population ?? []).map((p) =>
              h(
                'tr',
                { 'data-population': populationCode(p), 'data-in': (p.count ?? 0) > 0 ? 'true' : 'false' },
                h('th', { scope: 'row' }, populationLabel(populationCode(p))),
                h('td', {}, (p.count ?? 0) > 0 ? 'In' : 'Not in'),
              ),
            ),
          ),
        ),
        h('p', { class: 'secondary improvement' }, improvementText(m)),
      ),
    ),
  );
}
