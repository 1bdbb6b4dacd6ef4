// The ICD-9-CM → ICD-10-CM worklist: conditions coded in ICD-9-CM only, per patient, with the
// candidates the CMS forward GEM proposes ($translate). A coder accepts one (the Condition gets
// the ICD-10-CM coding beside the ICD-9-CM one, and a Provenance says who and why, in one
// transaction), or marks it for review (a meta.tag). The policy is the one of `vesta icd10
// migrate` (docs/terminology.md, "Migrating ICD-9-CM data"): the ICD-9-CM coding is kept.
import { empty, errorBox, h, replace, section, uniqueId } from '../dom';
import {
  ICD10,
  ICD9,
  entries,
  lookupDisplay,
  nextLink,
  request,
  search,
  translate,
  url,
  type Bundle,
  type Resource,
  type TranslateMatch,
} from '../fhir';
import { codingOf, conceptText, day, humanName, referenceId } from '../format';
import { pageReady } from '../router';

export const REVIEW_TAG = { system: 'urn:vesta:icd10-worklist', code: 'review', display: 'Needs coder review' };

function reviewed(c: Resource): boolean {
  return (c.meta?.tag ?? []).some((t) => t.system === REVIEW_TAG.system && t.code === REVIEW_TAG.code);
}

let gemUrl: Promise<string | undefined> | undefined;
function forwardGemUrl(): Promise<string | undefined> {
  gemUrl ??= search('ConceptMap', { _elements: 'url,version', _count: 50 })
    .then((b) => {
      const m = entries(b, 'ConceptMap').find((c) => String(c.url ?? '').endsWith('/gem-icd9cm-to-icd10cm'));
      return m ? `${m.url}${m.version ? `|${m.version}` : ''}` : undefined;
    })
    .catch(() => undefined);
  return gemUrl;
}

export async function renderWorklist(main: HTMLElement, _params: Record<string, string>, query: URLSearchParams): Promise<void> {
  const patient = query.get('patient') ?? undefined;
  const list = h('div', { class: 'worklist' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  replace(
    main,
    h('h1', {}, 'ICD-10 worklist'),
    h(
      'p',
      { class: 'lead' },
      'Conditions recorded in ICD-9-CM without an ICD-10-CM code, with the candidates of the CMS General Equivalence Mappings. ',
      'Accepting a candidate adds its ICD-10-CM coding (the ICD-9-CM coding stays) and a Provenance. ',
      patient ? h('a', { href: '/app/worklist', 'data-link': true }, 'Show every patient') : null,
    ),
    status,
    list,
  );
  pageReady('ICD-10 worklist');
  try {
    const bundle = await search('Condition', {
      code: `${ICD9}|`,
      patient: patient ? `Patient/${patient}` : undefined,
      _include: 'Condition:subject',
      _count: 50,
    });
    await renderPage(list, status, bundle);
  } catch (err) {
    replace(list, errorBox(`The worklist could not be loaded: ${(err as Error).message}`));
  }
}

async function renderPage(list: HTMLElement, status: HTMLElement, bundle: Bundle): Promise<void> {
  const patients = new Map<string, Resource>();
  for (const e of bundle.entry ?? []) if (e.resource?.resourceType === 'Patient') patients.set(e.resource.id, e.resource);
  const todo = entries(bundle, 'Condition').filter((c) => !codingOf(c.code, ICD10));
  const bySubject = new Map<string, Resource[]>();
  for (const c of todo) {
    const pid = referenceId(c.subject?.reference);
    if (!bySubject.has(pid)) bySubject.set(pid, []);
    bySubject.get(pid)!.push(c);
  }
  for (const [pid, conditions] of bySubject) {
    const p = patients.get(pid);
    const items = await Promise.all(conditions.map((c) => worklistItem(c, status)));
    list.appendChild(
      section(
        p ? humanName(p) : `Patient ${pid}`,
        'worklist-patient',
        h('p', { class: 'secondary' }, h('a', { href: `/app/patient/${pid}`, 'data-link': true }, 'Open the chart')),
        h('ul', { class: 'rows' }, items),
      ),
    );
  }
  const next = nextLink(bundle);
  if (next) {
    const more = h('button', { type: 'button', class: 'more' }, 'Load more');
    more.addEventListener('click', async () => {
      more.remove();
      await renderPage(list, status, await request<Bundle>(next));
    });
    list.appendChild(more);
  }
  if (!list.querySelector('li')) replace(list, empty('Nothing to review: every ICD-9-CM condition here has an ICD-10-CM code.'));
}

function candidateLabel(m: TranslateMatch): string {
  if (m.product?.length) return [m.concept, ...m.product.map((p) => p.concept)].map((c) => c?.code).join(' + ');
  return m.concept?.code ?? '';
}

async function worklistItem(c: Resource, status: HTMLElement): Promise<HTMLElement> {
  const icd9 = codingOf(c.code, ICD9)!;
  const li = h('li', { class: 'work-item', 'data-condition': c.id });
  const header = h(
    'div',
    { class: 'work-head' },
    h('span', { class: 'primary' }, conceptText(c.code)),
    h('span', { class: 'code legacy' }, `ICD-9-CM ${icd9.code} ${icd9.display ?? ''}`),
    h('span', { class: 'secondary' }, `Condition/${c.id} · since ${day(c.onsetDateTime)}`),
    reviewed(c) ? h('span', { class: 'badge' }, 'marked for review') : null,
  );
  li.appendChild(header);
  let result;
  try {
    result = await translate(ICD9, icd9.code ?? '', ICD10);
  } catch (err) {
    li.appendChild(errorBox(`$translate failed: ${(err as Error).message}`));
    return li;
  }
  const name = uniqueId('cand');
  const fieldset = h('fieldset', { class: 'candidates' }, h('legend', {}, result.matches.length ? 'GEM candidates' : 'No GEM candidate'));
  const singles = result.matches.filter((m) => !m.product?.length && m.concept?.code);
  for (const [i, m] of result.matches.entries()) {
    const id = `${name}-${i}`;
    const code = m.concept?.code ?? '';
    const display = m.concept?.display ?? (code ? (await lookupDisplay(ICD10, code)) ?? '' : '');
    const combination = Boolean(m.product?.length);
    fieldset.appendChild(
      h(
        'div',
        { class: 'candidate' },
        h('input', { type: 'radio', name, id, value: code, checked: singles.length === 1 && i === 0 && !combination, disabled: combination }),
        h('label', { for: id }, h('strong', {}, candidateLabel(m)), ` ${display} `, h('span', { class: 'equivalence' }, `(${m.equivalence ?? '?'}${combination ? ', combination: code by hand' : ''})`)),
      ),
    );
  }
  if (!result.matches.length && result.message) fieldset.appendChild(h('p', { class: 'secondary' }, result.message));
  li.appendChild(fieldset);
  const accept = h('button', { type: 'button', class: 'primary-button', disabled: singles.length === 0 }, 'Accept');
  const review = h('button', { type: 'button' }, 'Mark for review');
  accept.addEventListener('click', async () => {
    const chosen = fieldset.querySelector<HTMLInputElement>('input:checked');
    if (!chosen) {
      replace(status, 'Choose a candidate first.');
      return;
    }
    accept.disabled = review.disabled = true;
    try {
      await acceptCandidate(c.id, icd9.code ?? '', chosen.value);
      replace(li, h('p', { class: 'done' }, `Condition/${c.id}: ICD-10-CM ${chosen.value} added.`));
      replace(status, `ICD-10-CM ${chosen.value} added to Condition/${c.id}.`);
    } catch (err) {
      accept.disabled = review.disabled = false;
      replace(status, `Could not save: ${(err as Error).message}`);
    }
  });
  review.addEventListener('click', async () => {
    review.disabled = true;
    try {
      await markForReview(c.id);
      header.appendChild(h('span', { class: 'badge' }, 'marked for review'));
      replace(status, `Condition/${c.id} marked for review.`);
    } catch (err) {
      review.disabled = false;
      replace(status, `Could not save: ${(err as Error).message}`);
    }
  });
  li.appendChild(h('div', { class: 'actions' }, accept, review));
  return li;
}

// A version-4 UUID (crypto.randomUUID needs a secure context; getRandomValues does not).
function uuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// One transaction (https://hl7.org/fhir/R4/http.html#transaction): the Condition's next version,
// conditional on the version read (If-Match), and a Provenance for it
// (https://hl7.org/fhir/R4/provenance.html), as `vesta icd10 migrate` writes them.
export async function acceptCandidate(id: string, icd9Code: string, icd10Code: string): Promise<void> {
  const current = await request<Resource>(`/Condition/${encodeURIComponent(id)}`);
  const version = Number(current.meta?.versionId ?? '1');
  const display = await lookupDisplay(ICD10, icd10Code);
  const updated = structuredClone(current);
  updated.code = updated.code ?? {};
  updated.code.coding = [...(updated.code.coding ?? []), { system: ICD10, code: icd10Code, ...(display ? { display } : {}) }];
  delete updated.meta;
  const policy = await forwardGemUrl();
  const provenance: Resource = {
    resourceType: 'Provenance',
    id: '',
    target: [{ reference: `Condition/${id}/_history/${version + 1}` }],
    recorded: new Date().toISOString(),
    ...(policy ? { policy: [policy] } : {}),
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }] },
    reason: [{ text: `ICD-9-CM ${icd9Code} -> ICD-10-CM ${icd10Code}: a GEM candidate accepted in the ICD-10 worklist` }],
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] },
        who: { display: 'ICD-10 worklist (Vesta web app)' },
      },
    ],
    entity: [{ role: 'source', what: { reference: `Condition/${id}/_history/${version}` } }],
  };
  delete (provenance as Partial<Resource>).id;
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `Condition/${id}`, resource: updated, request: { method: 'PUT', url: `Condition/${id}`, ifMatch: `W/"${version}"` } },
      { fullUrl: `urn:uuid:${uuid()}`, resource: provenance, request: { method: 'POST', url: 'Provenance' } },
    ],
  };
  await request(url('/'), { method: 'POST', body: JSON.stringify(bundle) });
}

// The Condition's next version with the review tag (If-Match: the version read).
async function markForReview(id: string): Promise<void> {
  const current = await request<Resource>(`/Condition/${encodeURIComponent(id)}`);
  const version = current.meta?.versionId ?? '1';
  const tags = (current.meta?.tag ?? []).filter((t) => !(t.system === REVIEW_TAG.system && t.code === REVIEW_TAG.code));
  current.meta = { tag: [...tags, REVIEW_TAG] };
  await request(`/Condition/${encodeURIComponent(id)}`, {
    method: 'PUT',
    body: JSON.stringify(current),
    headers: { 'If-Match': `W/"${version}"` },
  });
}
