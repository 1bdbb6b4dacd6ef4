// The FHIR client of the app: Vesta's own REST API, same origin, JSON. Searches are paged by the
// server (the Bundle's `next` link, followed only as far as a caller asks) and narrowed with
// `_elements` / `_summary` (https://hl7.org/fhir/R4/search.html#elements).

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Resource = { resourceType: string; id: string; meta?: Meta; [key: string]: any };
export interface Meta {
  versionId?: string;
  lastUpdated?: string;
  tag?: Coding[];
}
export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}
export interface Bundle {
  resourceType: 'Bundle';
  type?: string;
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: { fullUrl?: string; resource?: Resource; search?: { mode?: string }; response?: any }[];
}

export const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';
export const ICD9 = 'http://hl7.org/fhir/sid/icd-9-cm';
export const LOINC = 'http://loinc.org';

let accessToken: string | null = null;
export function setAccessToken(token: string | null): void {
  accessToken = token;
}

export class FhirError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | undefined | (string | number)[]>;

export function url(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, String(x)));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// A request to the server; `path` starts with '/'. Errors carry the OperationOutcome's text.
export async function request<T = Resource>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/fhir+json');
  if (init.body !== undefined) headers.set('Content-Type', 'application/fhir+json');
  if (accessToken) headers.set('Authorization', `Bearer ${accessToken}`);
  const res = await fetch(path, { ...init, headers });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const issues = body?.issue as { diagnostics?: string; details?: { text?: string } }[] | undefined;
    const detail = issues?.map((i) => i.diagnostics ?? i.details?.text).filter(Boolean).join('; ');
    throw new FhirError(res.status, `${res.status} ${res.statusText}${detail ? `: ${detail}` : ''}`);
  }
  return body as T;
}

export function search(type: string, params: Params): Promise<Bundle> {
  return request<Bundle>(url(`/${type}`, params));
}

// The same-origin path of a paging link (the server writes absolute URLs from the Host header).
function linkPath(link: string): string {
  const u = new URL(link, location.href);
  return u.pathname + u.search;
}

export function nextLink(bundle: Bundle): string | undefined {
  const next = bundle.link?.find((l) => l.relation === 'next');
  return next ? linkPath(next.url) : undefined;
}

export function entries<T extends Resource = Resource>(bundle: Bundle, type?: string): T[] {
  const out: T[] = [];
  for (const e of bundle.entry ?? []) {
    if (!e.resource) continue;
    if (type && e.resource.resourceType !== type) continue;
    if (e.search?.mode && e.search.mode !== 'match') continue;
    out.push(e.resource as T);
  }
  return out;
}

// Every match, page after page, up to `limit` resources (the server decides the page size with
// _count; each page is one bounded request).
export async function searchAll<T extends Resource = Resource>(
  type: string,
  params: Params,
  limit = 2000,
): Promise<T[]> {
  let bundle = await search(type, params);
  const out: T[] = entries<T>(bundle, type);
  for (let next = nextLink(bundle); next && out.length < limit; next = nextLink(bundle)) {
    bundle = await request<Bundle>(next);
    out.push(...entries<T>(bundle, type));
  }
  return out.slice(0, limit);
}

export async function count(type: string, params: Params): Promise<number> {
  const b = await search(type, { ...params, _summary: 'count' });
  return b.total ?? 0;
}

// Parameters (https://hl7.org/fhir/R4/parameters.html) → the first value of a named parameter.
export function parameter(p: Resource, name: string): any {
  const found = (p.parameter as any[] | undefined)?.find((x) => x.name === name);
  if (!found) return undefined;
  for (const [k, v] of Object.entries(found)) if (k.startsWith('value')) return v;
  return found;
}

// CodeSystem/$lookup's display (https://hl7.org/fhir/R4/codesystem-operation-lookup.html), once
// per code for the app's lifetime; undefined when the terminology does not know the code.
const displays = new Map<string, Promise<string | undefined>>();
export function lookupDisplay(system: string, code: string): Promise<string | undefined> {
  const key = `${system}|${code}`;
  let p = displays.get(key);
  if (!p) {
    p = request(url('/CodeSystem/$lookup', { system, code }))
      .then((r) => parameter(r, 'display') as string | undefined)
      .catch(() => undefined);
    displays.set(key, p);
  }
  return p;
}

export interface TranslateMatch {
  equivalence?: string;
  concept?: Coding;
  product?: { element?: string; concept?: Coding }[];
}

// ConceptMap/$translate (https://hl7.org/fhir/R4/conceptmap-operation-translate.html).
export async function translate(
  system: string,
  code: string,
  targetsystem: string,
): Promise<{ result: boolean; message?: string; matches: TranslateMatch[] }> {
  const r = await request(url('/ConceptMap/$translate', { system, code, targetsystem }));
  const matches: TranslateMatch[] = [];
  for (const p of (r.parameter as any[]) ?? []) {
    if (p.name !== 'match') continue;
    const m: TranslateMatch = {};
    for (const part of p.part ?? []) {
      if (part.name === 'equivalence') m.equivalence = part.valueCode;
      if (part.name === 'concept') m.concept = part.valueCoding;
      if (part.name === 'product') {
        const prod: { element?: string; concept?: Coding } = {};
        for (const pp of part.part ?? []) {
          if (pp.name === 'element') prod.element = pp.valueUri;
          if (pp.name === 'concept') prod.concept = pp.valueCoding;
        }
        (m.product ??= []).push(prod);
      }
    }
    matches.push(m);
  }
  return { result: parameter(r, 'result') === true, message: parameter(r, 'message'), matches };
}
