// Patients: search by name (prefix, each word), birth date (YYYY, YYYY-MM or YYYY-MM-DD) or MRN,
// results as you type. Arrow keys move between the input and the results; Enter opens one.
import { h, replace } from '../dom';
import { entries, search, type Resource } from '../fhir';
import { age, mrn, sexLabel, sortName } from '../format';
import { navigate } from '../router';

// The FHIR search parameters for what was typed (https://hl7.org/fhir/R4/patient.html#search).
export function patientQuery(text: string): Record<string, string | string[]> | null {
  const t = text.trim();
  if (!t) return null;
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(t)) return { birthdate: t };
  if (/^[A-Za-z]\d{5,}$/.test(t)) return { identifier: t.toUpperCase() };
  const words = t.split(/[\s,]+/).filter(Boolean);
  return { name: words };
}

export function renderSearch(main: HTMLElement): void {
  const input = h('input', {
    id: 'patient-search',
    type: 'search',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Name, birth date (1970-01-31) or MRN (M123456789)',
    'aria-describedby': 'search-hint',
    'aria-controls': 'search-results',
  });
  const status = h('p', { id: 'search-status', class: 'status', role: 'status', 'aria-live': 'polite' });
  const results = h('ul', { id: 'search-results', class: 'results', 'aria-label': 'Matching patients' });
  replace(
    main,
    h('h1', { tabindex: '-1' }, 'Patients'),
    h(
      'form',
      { class: 'search', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
      h('label', { for: 'patient-search' }, 'Find a patient'),
      input,
      h('p', { id: 'search-hint', class: 'hint' }, 'Results appear as you type. Use the down arrow to move to them.'),
    ),
    status,
    results,
  );

  let generation = 0;
  let timer: number | undefined;
  const run = async () => {
    const params = patientQuery(input.value);
    const mine = ++generation;
    if (!params) {
      replace(results);
      replace(status, '');
      return;
    }
    try {
      const bundle = await search('Patient', {
        ...params,
        _count: 20,
        _elements: 'name,birthDate,gender,identifier',
      });
      if (mine !== generation) return;
      const patients = entries(bundle, 'Patient');
      replace(results, ...patients.map(resultItem));
      const more = bundle.link?.some((l) => l.relation === 'next') ? ' (first 20; type more to narrow)' : '';
      replace(status, patients.length === 0 ? 'No patient matches.' : `${patients.length} patient${patients.length === 1 ? '' : 's'}${more}.`);
    } catch (err) {
      if (mine !== generation) return;
      replace(status, `Search failed: ${(err as Error).message}`);
    }
  };
  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(run, 150);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      const first = results.querySelector('a');
      if (first) {
        e.preventDefault();
        first.focus();
      }
    } else if (e.key === 'Enter') {
      const first = results.querySelector('a');
      if (first) navigate(first.getAttribute('href')!);
    }
  });
  results.addEventListener('keydown', (e) => {
    const links = Array.from(results.querySelectorAll('a'));
    const i = links.indexOf(document.activeElement as HTMLAnchorElement);
    if (i < 0) return;
    if (e.key === 'ArrowDown' && i + 1 < links.length) {
      e.preventDefault();
      links[i + 1].focus();
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (i === 0) input.focus();
      else links[i - 1].focus();
    }
  });
  input.focus();
}

function resultItem(p: Resource): HTMLElement {
  return h(
    'li',
    {},
    h(
      'a',
      { href: `/app/patient/${p.id}`, 'data-link': true, class: 'result' },
      h('span', { class: 'name' }, sortName(p)),
      h('span', { class: 'meta' }, `${sexLabel(p.gender)} · born ${p.birthDate ?? '?'} (${age(p.birthDate)}) · MRN ${mrn(p) ?? '-'}`),
    ),
  );
}
