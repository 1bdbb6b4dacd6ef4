// The terminology explorer: CodeSystem/$lookup and ConceptMap/$translate against the server's
// terminology (ICD-10-CM, ICD-9-CM and the GEMs when loaded; docs/terminology.md).
import { errorBox, h, replace, section } from '../dom';
import { ICD10, ICD9, request, translate, url, type Resource } from '../fhir';
import { pageReady } from '../router';

function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLElement {
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

function systemSelect(id: string, selected: string): HTMLSelectElement {
  return h(
    'select',
    { id },
    h('option', { value: ICD10, selected: selected === ICD10 }, 'ICD-10-CM'),
    h('option', { value: ICD9, selected: selected === ICD9 }, 'ICD-9-CM'),
  );
}

export function renderTerminology(main: HTMLElement, _p: Record<string, string>, query: URLSearchParams): void {
  const lookupSystem = systemSelect('lookup-system', ICD10);
  const lookupCode = h('input', { id: 'lookup-code', type: 'text', value: query.get('code') ?? 'E11.9', autocomplete: 'off' });
  const lookupOut = h('div', { class: 'result-box', 'aria-live': 'polite' });
  const translateSystem = systemSelect('translate-system', ICD9);
  const translateCode = h('input', { id: 'translate-code', type: 'text', value: '250.00', autocomplete: 'off' });
  const translateOut = h('div', { class: 'result-box', 'aria-live': 'polite' });

  const doLookup = async (e: Event) => {
    e.preventDefault();
    replace(lookupOut, h('p', { class: 'status' }, 'Looking up…'));
    try {
      const r = await request<Resource>(url('/CodeSystem/$lookup', { system: lookupSystem.value, code: lookupCode.value.trim() }));
      const rows = ((r.parameter ?? []) as Resource[]).map((p) => {
        const value = Object.entries(p).find(([k]) => k.startsWith('value'))?.[1];
        const parts = (p.part ?? []) as Resource[];
        const text = value !== undefined ? String(value) : parts.map((pp) => `${pp.name}: ${Object.entries(pp).find(([k]) => k.startsWith('value'))?.[1] ?? ''}`).join('; ');
        return h('tr', {}, h('th', { scope: 'row' }, p.name), h('td', {}, text));
      });
      replace(lookupOut, h('table', { class: 'kv' }, h('caption', {}, `${lookupCode.value.trim()} in ${lookupSystem.selectedOptions[0].text}`), h('tbody', {}, rows)));
    } catch (err) {
      replace(lookupOut, errorBox((err as Error).message));
    }
  };
  const doTranslate = async (e: Event) => {
    e.preventDefault();
    replace(translateOut, h('p', { class: 'status' }, 'Translating…'));
    const target = translateSystem.value === ICD9 ? ICD10 : ICD9;
    try {
      const r = await translate(translateSystem.value, translateCode.value.trim(), target);
      replace(
        translateOut,
        r.matches.length
          ? h(
              'table',
              { class: 'kv' },
              h('caption', {}, `${translateCode.value.trim()}: ${r.matches.length} match${r.matches.length === 1 ? '' : 'es'}`),
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Code'), h('th', { scope: 'col' }, 'Display'), h('th', { scope: 'col' }, 'Equivalence'))),
              h(
                'tbody',
                {},
                r.matches.map((m) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, [m.concept?.code, ...(m.product ?? []).map((p) => p.concept?.code)].filter(Boolean).join(' + ')),
                    h('td', {}, m.concept?.display ?? ''),
                    h('td', {}, m.equivalence ?? ''),
                  ),
                ),
              ),
            )
          : h('p', {}, r.message ?? 'No match.'),
      );
    } catch (err) {
      replace(translateOut, errorBox((err as Error).message));
    }
  };
  replace(
    main,
    h('h1', {}, 'Terminology'),
    h('div', { class: 'two-col' },
      section('Look up a code ($lookup)', 'lookup', h('form', { onsubmit: doLookup }, field('Code system', lookupSystem), field('Code', lookupCode), h('button', { type: 'submit', class: 'primary-button' }, 'Look up')), lookupOut),
      section('Translate a code ($translate, CMS GEMs)', 'translate', h('form', { onsubmit: doTranslate }, field('From', translateSystem), field('Code', translateCode), h('button', { type: 'submit', class: 'primary-button' }, 'Translate')), translateOut),
    ),
  );
  pageReady('Terminology');
}
