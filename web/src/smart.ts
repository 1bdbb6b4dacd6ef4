// Sign-in when the server runs with `--auth smart`: the app is the public client `vesta-web`
// that `vesta serve` registers with the redirect URI <base>/app/, and it signs the user in
// through Vesta's own authorization server with the SMART App Launch authorization code flow
// and PKCE (https://hl7.org/fhir/smart-app-launch/app-launch.html, docs/security.md "Apps with a
// user"). With authorization off (no /.well-known/smart-configuration) it does nothing.
import { h, replace } from './dom';
import { setAccessToken } from './fhir';

export const CLIENT_ID = 'vesta-web';
const SCOPE = 'openid fhirUser user/*.cruds';
const KEY = 'vesta-web.session';
const PENDING = 'vesta-web.pending';

interface Session {
  token: string;
  expires: number;
}
interface Pending {
  state: string;
  verifier: string;
  returnTo: string;
  tokenEndpoint: string;
}

function redirectUri(): string {
  return `${location.origin}/app/`;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function showSession(): void {
  const el = document.getElementById('session');
  if (!el) return;
  const out = h('button', { type: 'button', class: 'link-button' }, 'Sign out');
  out.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    location.assign('/app/');
  });
  replace(el, out);
}

// Resolves true once requests can be made (a token is set, or none is needed); false while the
// browser is being sent to the authorization server.
export async function signIn(): Promise<boolean> {
  let config: { authorization_endpoint?: string; token_endpoint?: string } | undefined;
  try {
    const res = await fetch('/.well-known/smart-configuration', { headers: { Accept: 'application/json' } });
    if (res.ok) config = await res.json();
  } catch {
    config = undefined;
  }
  if (!config?.authorization_endpoint || !config.token_endpoint) return true;

  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as Pending | null;
  if (params.has('code') && pending && params.get('state') === pending.state) {
    sessionStorage.removeItem(PENDING);
    const res = await fetch(pending.tokenEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: params.get('code')!,
        redirect_uri: redirectUri(),
        client_id: CLIENT_ID,
        code_verifier: pending.verifier,
      }),
    });
    if (!res.ok) {
      document.getElementById('main')!.textContent = `Sign-in failed (${res.status}).`;
      return false;
    }
    const t = (await res.json()) as { access_token: string; expires_in?: number };
    const session: Session = { token: t.access_token, expires: Date.now() + (t.expires_in ?? 3600) * 1000 };
    sessionStorage.setItem(KEY, JSON.stringify(session));
    history.replaceState(null, '', pending.returnTo);
  }
  const session = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
  if (session && session.expires > Date.now() + 30_000) {
    setAccessToken(session.token);
    showSession();
    return true;
  }
  // https://hl7.org/fhir/smart-app-launch/app-launch.html#obtain-authorization-code
  const verifier = randomText();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = randomText();
  const next: Pending = { state, verifier, returnTo: location.pathname + location.search, tokenEndpoint: config.token_endpoint };
  sessionStorage.setItem(PENDING, JSON.stringify(next));
  const authorize = new URL(config.authorization_endpoint, location.href);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    scope: SCOPE,
    state,
    aud: location.origin,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(authorize.toString());
  return false;
}
