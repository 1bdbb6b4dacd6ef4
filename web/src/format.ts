// Display helpers for FHIR datatypes.
import type { CodeableConcept, Coding, Resource } from './fhir';

export const MRN_TYPE = 'MR';

export function humanName(p: Resource): string {
  const names = (p.name ?? []) as { use?: string; text?: string; given?: string[]; family?: string; prefix?: string[] }[];
  const n = names.find((x) => x.use === 'official') ?? names[0];
  if (!n) return '(no name)';
  if (n.text) return n.text;
  return [...(n.given ?? []), n.family ?? ''].join(' ').trim() || '(no name)';
}

// Family name first, for lists: "Smith, John A".
export function sortName(p: Resource): string {
  const names = (p.name ?? []) as { use?: string; given?: string[]; family?: string }[];
  const n = names.find((x) => x.use === 'official') ?? names[0];
  if (!n) return '(no name)';
  return `${n.family ?? ''}, ${(n.given ?? []).join(' ')}`;
}

export function mrn(p: Resource): string | undefined {
  const ids = (p.identifier ?? []) as { type?: CodeableConcept; value?: string }[];
  const byType = ids.find((i) => i.type?.coding?.some((c) => c.code === MRN_TYPE));
  return (byType ?? ids[0])?.value;
}

// Age in whole years on `on` (today by default), from a FHIR date.
export function age(birthDate: string | undefined, on: Date = new Date()): string {
  if (!birthDate) return '';
  const [y, m, d] = birthDate.split('-').map(Number);
  let years = on.getFullYear() - y;
  if (on.getMonth() + 1 < (m || 1) || (on.getMonth() + 1 === (m || 1) && on.getDate() < (d || 1))) years -= 1;
  return `${years} y`;
}

export function sexLabel(gender: string | undefined): string {
  switch (gender) {
    case 'female':
      return 'Female';
    case 'male':
      return 'Male';
    case 'other':
      return 'Other';
    default:
      return 'Unknown';
  }
}

// A dateTime as its date (YYYY-MM-DD): charts read dates, and the time zone stays the record's.
export function day(dt: string | undefined): string {
  return dt ? dt.slice(0, 10) : '';
}

export function conceptText(cc: CodeableConcept | undefined): string {
  if (!cc) return '';
  return cc.text ?? cc.coding?.find((c) => c.display)?.display ?? cc.coding?.[0]?.code ?? '';
}

export function codingOf(cc: CodeableConcept | undefined, system: string): Coding | undefined {
  return cc?.coding?.find((c) => c.system === system);
}

export function quantity(q: { value?: number; unit?: string; code?: string } | undefined): string {
  if (!q || q.value === undefined) return '';
  return `${q.value} ${q.unit ?? q.code ?? ''}`.trim();
}

export function referenceId(ref: string | undefined): string {
  return ref ? ref.slice(ref.lastIndexOf('/') + 1) : '';
}
