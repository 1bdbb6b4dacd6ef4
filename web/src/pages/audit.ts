// The audit trail (docs/security.md, "Audit trail"): GET /AuditEvent, newest first, paged; by
// patient when one is given.
import { empty, errorBox, h, replace, section } from '../dom';
import { entries, nextLink, request, search, type Bundle, type Resource } from '../fhir';
import { pageReady } from '../router';

function row(e: Resource): HTMLElement {
  const agent = ((e.agent ?? []) as Resource[]).find((a) => a.requestor) ?? e.agent?.[0];
  const what = [...new Set(((e.entity ?? []) as Resource[]).map((x) => x.what?.reference).filter(Boolean))].join(', ');
  const outcome = { '0': 'success', '4': 'minor failure', '8': 'serious failure', '12': 'major failure' }[String(e.outcome)] ?? String(e.outcome ?? '');
  return h(
    'tr',
    {},
    h('td', {}, String(e.recorded ?? '').slice(0, 19).replace('T', ' ')),
    h('td', {}, e.action ?? ''),
    h('td', {}, e.subtype?.[0]?.code ?? e.type?.code ?? ''),
    h('td', {}, what),
    h('td', {}, agent?.who?.display ?? agent?.who?.reference ?? agent?.altId ?? ''),
    h('td', {}, outcome),
  );
}

export async function renderAudit(main: HTMLElement, _p: Record<string, string>, query: URLSearchParams): Promise<void> {
  const patient = query.get('patient');
  const body = h('div', {}, h('p', { class: 'status' }, 'Loading…'));
  replace(main, h('h1', {}, patient ? 'Audit trail of a patient record' : 'Audit trail'), body);
  pageReady('Audit trail');
  try {
    const first = await search('AuditEvent', { patient: patient ? `Patient/${patient}` : undefined, _count: 50 });
    const tbody = h('tbody', {}, entries(first, 'AuditEvent').map(row));
    if (!tbody.firstChild) {
      replace(body, section('Records', 'audit', empty('No audit records.')));
      return;
    }
    const table = h(
      'table',
      { class: 'audit-table' },
      h('caption', {}, 'Requests recorded, newest first'),
      h('thead', {}, h('tr', {}, ['Time (UTC)', 'Action', 'Interaction', 'Resource', 'Who', 'Outcome'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody,
    );
    const out = section('Records', 'audit', h('div', { class: 'scroll' }, table));
    let next = nextLink(first);
    if (next) {
      const more = h('button', { type: 'button', class: 'more' }, 'Load more');
      more.addEventListener('click', async () => {
        if (!next) return;
        const page = await request<Bundle>(next);
        for (const e of entries(page, 'AuditEvent')) tbody.appendChild(row(e));
        next = nextLink(page);
        if (!next) more.remove();
      });
      out.appendChild(more);
    }
    replace(body, out);
  } catch (err) {
    replace(body, errorBox(`The audit trail could not be loaded: ${(err as Error).message}`));
  }
}
