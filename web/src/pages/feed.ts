// The HL7 v2 feed: each stored message (a Basic resource with its state tag, docs/hl7v2.md "The
// feed"), newest first and paged: its type, sender, control id, time and state, the ACK it was
// answered with (kept on the record), and what it created or updated, found through the
// mapping's Provenance, whose entity is the record (Provenance?entity=Basic/...&_include=
// Provenance:target: one request per page of messages). The dead letters apart, with their reason
// and ACK.
import { empty, errorBox, h, replace, section } from '../dom';
import { entries, nextLink, request, search, type Bundle, type Resource } from '../fhir';
import { conceptText, day, humanName, referenceId } from '../format';
import { pageReady } from '../router';

const STATE = 'urn:vesta:hl7v2:state';
const RAW = 'urn:vesta:hl7v2:raw';
const REASON = 'urn:vesta:hl7v2:reason';
const ACK = 'urn:vesta:hl7v2:ack';

type Extension = { url: string; valueString?: string; valueBase64Binary?: string; valueCoding?: { code?: string; display?: string }; extension?: Extension[] };

function extensions(r: Resource): Extension[] {
  return (r.extension ?? []) as Extension[];
}

function state(b: Resource): string {
  return (b.meta?.tag ?? []).find((t) => t.system === STATE)?.code ?? '?';
}

function decodeBase64(data: string): string {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

// Segments one per line, as an interface engineer reads them.
function lines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

function rawText(b: Resource): string {
  const ext = extensions(b).find((e) => e.url === RAW);
  return lines(ext?.valueString ?? (ext?.valueBase64Binary ? decodeBase64(ext.valueBase64Binary) : ''));
}

interface Ack {
  code: string;
  display: string;
  text: string;
  message: string;
}

// The ACK the record keeps (extension urn:vesta:hl7v2:ack: code, text, message); records written
// before ACKs were kept have none.
function ackOf(b: Resource): Ack | undefined {
  const ext = extensions(b).find((e) => e.url === ACK);
  if (!ext) return undefined;
  const part = (url: string) => ext.extension?.find((e) => e.url === url);
  const message = part('message');
  return {
    code: part('code')?.valueCoding?.code ?? '',
    display: part('code')?.valueCoding?.display ?? '',
    text: part('text')?.valueString ?? '',
    message: lines(message?.valueString ?? (message?.valueBase64Binary ? decodeBase64(message.valueBase64Binary) : '')),
  };
}

// MSH-3/4 (sender), MSH-7 (time), MSH-9 (type) and MSH-10 (control id), as written.
function header(text: string): { type: string; control: string; sender: string; time: string } {
  const msh = text.split('\n').find((l) => l.startsWith('MSH')) ?? '';
  const sep = msh.charAt(3) || '|';
  const comp = msh.charAt(4) || '^';
  const f = msh.split(sep);
  const hd = (v: string | undefined) => (v ?? '').split(comp)[0];
  return {
    type: (f[8] ?? '').split(comp).slice(0, 2).join('^'),
    control: f[9] ?? '',
    sender: [hd(f[2]), hd(f[3])].filter(Boolean).join(' at '),
    time: v2Time((f[6] ?? '').split(comp)[0]),
  };
}

// A v2 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]) for reading: "2024-01-05 14:30:00 +0100".
function v2Time(dtm: string): string {
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$/.exec(dtm);
  if (!m) return dtm;
  const date = [m[1], m[2], m[3]].filter(Boolean).join('-');
  const time = [m[4], m[5], m[6]].filter(Boolean).join(':');
  return [date, time, m[7]].filter(Boolean).join(' ');
}

// The patient a resource belongs to ("Patient/123"), for a link into the chart.
function patientOf(r: Resource): string | undefined {
  if (r.resourceType === 'Patient') return `Patient/${r.id}`;
  const refs = [r.subject, r.patient, r.beneficiary, ...((r.participant ?? []) as { actor?: unknown }[]).map((p) => p.actor)] as ({ reference?: string } | undefined)[];
  return refs.map((x) => x?.reference).find((ref) => ref?.startsWith('Patient/'));
}

// One line saying what a resource is.
function describe(r: Resource): string {
  switch (r.resourceType) {
    case 'Patient':
      return humanName(r);
    case 'Encounter': {
      const cls = (r.class as { display?: string; code?: string } | undefined) ?? {};
      return [cls.display ?? cls.code, r.status, day(r.period?.start)].filter(Boolean).join(' · ');
    }
    case 'Practitioner':
    case 'RelatedPerson':
      return humanName(r);
    case 'Location':
    case 'Organization':
      return r.name ?? '';
    default:
      return conceptText(r.code ?? r.vaccineCode ?? r.type ?? r.medicationCodeableConcept) || (r.status ?? '');
  }
}

function ackLine(ack: Ack | undefined): HTMLElement {
  if (!ack) return h('p', { class: 'secondary ack' }, 'ACK not kept (a record written before ACKs were stored)');
  const ok = ack.code === 'AA' || ack.code === 'CA';
  return h(
    'p',
    { class: 'ack', 'data-ack-code': ack.code },
    'ACK ',
    h('span', { class: `ack-code ${ok ? 'ack-ok' : 'ack-error'}`, title: ack.display }, ack.code || '?'),
    ' ',
    h('span', { class: 'ack-text' }, ack.text || ack.display.replace(/^.*: /, '')),
  );
}

// What the message created or updated: the targets of its Provenances, each linked into the chart
// of the patient it belongs to.
function createdList(targets: Resource[] | undefined): HTMLElement | null {
  if (!targets) return null;
  if (targets.length === 0) return h('p', { class: 'secondary created-none' }, 'Created or updated nothing (no Provenance names this message).');
  const items = targets.map((r) => {
    const patient = patientOf(r);
    const label = `${r.resourceType}${describe(r) ? `: ${describe(r)}` : ''}`;
    const link = patient
      ? h('a', { href: `/app/patient/${referenceId(patient)}` }, label)
      : h('a', { href: `/${r.resourceType}/${r.id}`, target: '_blank', rel: 'noopener' }, label);
    return h('li', { 'data-type': r.resourceType, 'data-id': r.id }, link);
  });
  return h('div', { class: 'created' }, h('p', { class: 'secondary' }, 'Created or updated:'), h('ul', {}, items));
}

function messageItem(b: Resource, targets: Resource[] | undefined): HTMLElement {
  const text = rawText(b);
  const hd = header(text);
  const st = state(b);
  const ack = ackOf(b);
  const reason = extensions(b).find((e) => e.url === REASON)?.valueString;
  const received = b.meta?.lastUpdated?.slice(0, 19).replace('T', ' ') ?? '';
  return h(
    'li',
    { class: `message state-${st}`, 'data-message-id': b.id, 'data-control-id': hd.control },
    h('span', { class: 'primary' }, `${hd.type || 'message'} · control id ${hd.control}`),
    h('span', { class: 'secondary' }, `${st} · from ${hd.sender || 'unknown sender'} · sent ${hd.time || '?'} · stored ${received} UTC`),
    ackLine(ack),
    reason ? h('p', { class: 'error-text' }, reason) : null,
    createdList(targets),
    h('details', {}, h('summary', {}, 'Message'), h('pre', { class: 'hl7' }, text)),
    ack?.message ? h('details', {}, h('summary', {}, 'ACK'), h('pre', { class: 'hl7' }, ack.message)) : null,
    h('p', { class: 'secondary' }, h('a', { href: `/Basic/${b.id}`, target: '_blank', rel: 'noopener' }, `Basic/${b.id}`)),
  );
}

// The resources each message of `records` created or updated, by record id: one search of the
// Provenances naming them (https://hl7.org/fhir/R4/provenance.html#search: entity), with their
// targets included.
async function createdBy(records: Resource[]): Promise<Map<string, Resource[]>> {
  const out = new Map<string, Resource[]>();
  if (records.length === 0) return out;
  for (const b of records) out.set(b.id, []);
  const bundle = await search('Provenance', {
    entity: records.map((b) => `Basic/${b.id}`).join(','),
    _include: 'Provenance:target',
    _count: 100,
  });
  const included = new Map<string, Resource>();
  for (const e of bundle.entry ?? []) {
    if (e.resource && e.search?.mode === 'include') included.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  }
  for (const prov of entries(bundle, 'Provenance')) {
    for (const ent of (prov.entity ?? []) as { what?: { reference?: string } }[]) {
      const list = out.get(referenceId(ent.what?.reference));
      if (!list) continue;
      for (const t of (prov.target ?? []) as { reference?: string }[]) {
        const key = (t.reference ?? '').split('/_history/')[0];
        const r = included.get(key);
        if (r && !list.some((x) => x.resourceType === r.resourceType && x.id === r.id)) list.push(r);
      }
    }
  }
  return out;
}

async function pagedList(title: string, cls: string, params: Record<string, string | number>, withCreated: boolean): Promise<HTMLElement> {
  const render = async (page: Bundle): Promise<HTMLElement[]> => {
    const records = entries(page, 'Basic');
    const created = withCreated ? await createdBy(records) : undefined;
    return records.map((b) => messageItem(b, created?.get(b.id)));
  };
  const first = await search('Basic', params);
  const items = await render(first);
  const list = h('ul', { class: 'rows' }, items);
  const out = section(title, cls, items.length ? list : empty('None.'));
  let next = nextLink(first);
  if (next) {
    const more = h('button', { type: 'button', class: 'more' }, 'Load more');
    more.addEventListener('click', async () => {
      if (!next) return;
      const page = await request<Bundle>(next);
      for (const li of await render(page)) list.appendChild(li);
      next = nextLink(page);
      if (!next) more.remove();
    });
    out.appendChild(more);
  }
  return out;
}

export async function renderFeed(main: HTMLElement): Promise<void> {
  const body = h('div', { class: 'feed-page' }, h('p', { class: 'status' }, 'Loading…'));
  replace(
    main,
    h('h1', {}, 'HL7 v2 feed'),
    h('p', { class: 'lead' }, 'Messages taken over MLLP (vesta serve --mllp-port), stored before their ACK: their state, the ACK each was answered with, and what each created or updated.'),
    body,
  );
  pageReady('HL7 v2 feed');
  try {
    const [all, dead] = await Promise.all([
      pagedList('Messages', 'feed', { _tag: `${STATE}|applied`, _count: 20, _sort: '-_lastUpdated' }, true),
      pagedList('Dead letters and rejected', 'dead-letters', { _tag: `${STATE}|dead-letter,${STATE}|rejected`, _count: 20, _sort: '-_lastUpdated' }, false),
    ]);
    replace(body, all, dead);
  } catch (err) {
    replace(body, errorBox(`The feed could not be loaded: ${(err as Error).message}`));
  }
}
