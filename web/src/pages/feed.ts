// The HL7 v2 feed: each stored message (a Basic resource with its state tag, docs/hl7v2.md "The
// feed"), newest first and paged, with its text and state; the dead letters apart, with their
// reason.
import { empty, errorBox, h, replace, section } from '../dom';
import { entries, nextLink, request, search, type Bundle, type Resource } from '../fhir';
import { pageReady } from '../router';

const STATE = 'urn:vesta:hl7v2:state';
const RAW = 'urn:vesta:hl7v2:raw';

function state(b: Resource): string {
  return (b.meta?.tag ?? []).find((t) => t.system === STATE)?.code ?? '?';
}

function rawText(b: Resource): string {
  const ext = ((b.extension ?? []) as Resource[]).find((e) => e.url === RAW);
  const data = ext?.valueBase64Binary as string | undefined;
  if (!data) return '';
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes).replace(/\r/g, '\n');
}

function header(text: string): { type: string; control: string; sender: string } {
  const msh = text.split('\n').find((l) => l.startsWith('MSH')) ?? '';
  const sep = msh.charAt(3) || '|';
  const f = msh.split(sep);
  return { type: (f[8] ?? '').split('^').slice(0, 2).join('^'), control: f[9] ?? '', sender: [f[2], f[3]].filter(Boolean).join(' / ') };
}

function messageItem(b: Resource): HTMLElement {
  const text = rawText(b);
  const hd = header(text);
  const st = state(b);
  const reason = ((b.extension ?? []) as Resource[]).find((e) => e.url !== RAW && e.valueString)?.valueString as string | undefined;
  return h(
    'li',
    { class: `message state-${st}` },
    h('span', { class: 'primary' }, `${hd.type || 'message'} ${hd.control}`),
    h('span', { class: 'secondary' }, `${st} · ${hd.sender} · ${b.meta?.lastUpdated?.slice(0, 19).replace('T', ' ') ?? ''}`),
    reason ? h('p', { class: 'error-text' }, reason) : null,
    h('details', {}, h('summary', {}, 'Message'), h('pre', { class: 'hl7' }, text)),
    h('p', { class: 'secondary' }, h('a', { href: `/Basic/${b.id}`, target: '_blank', rel: 'noopener' }, `Basic/${b.id}`)),
  );
}

async function pagedList(title: string, cls: string, params: Record<string, string | number>): Promise<HTMLElement> {
  const first = await search('Basic', params);
  const list = h('ul', { class: 'rows' }, entries(first, 'Basic').map(messageItem));
  const out = section(title, cls, entries(first, 'Basic').length ? list : empty('None.'));
  let next = nextLink(first);
  if (next) {
    const more = h('button', { type: 'button', class: 'more' }, 'Load more');
    more.addEventListener('click', async () => {
      if (!next) return;
      const page = await request<Bundle>(next);
      for (const b of entries(page, 'Basic')) list.appendChild(messageItem(b));
      next = nextLink(page);
      if (!next) more.remove();
    });
    out.appendChild(more);
  }
  return out;
}

export async function renderFeed(main: HTMLElement): Promise<void> {
  const body = h('div', { class: 'two-col' }, h('p', { class: 'status' }, 'Loading…'));
  replace(main, h('h1', {}, 'HL7 v2 feed'), h('p', { class: 'lead' }, 'Messages taken over MLLP (vesta serve --mllp-port), stored before their ACK, with their state.'), body);
  pageReady('HL7 v2 feed');
  try {
    const [all, dead] = await Promise.all([
      pagedList('Messages', 'feed', { _tag: `${STATE}|applied`, _count: 20, _sort: '-_lastUpdated' }),
      pagedList('Dead letters and rejected', 'dead-letters', { _tag: `${STATE}|dead-letter,${STATE}|rejected`, _count: 20, _sort: '-_lastUpdated' }),
    ]);
    replace(body, all, dead);
  } catch (err) {
    replace(body, errorBox(`The feed could not be loaded: ${(err as Error).message}`));
  }
}
