// A SMART app built on fhirclient (SMART's own JavaScript client, npm) launched standalone against
// Vesta (https://hl7.org/fhir/smart-app-launch/app-launch.html), for auth_test.cc. This script is
// both the app (a small HTTP server on APP_PORT using fhirclient's Node adapter) and the user's
// browser: it follows the redirects, signs in on the login page, approves on the consent page,
// and lets the app finish the launch and read with its token.
//
//   node smart_app_launch.mjs FHIR_BASE APP_PORT CLIENT_ID USERNAME PASSWORD SCOPE PATIENT MODE
//
// MODE: "launch" (the whole launch, then the code used again, then a refresh), "wrong-verifier"
// (the code exchanged with another PKCE verifier than the app's), "ehr" (an EHR launch: PATIENT
// is then the launch id the EHR made, and the app is opened with launch and iss) or "lockout"
// (five wrong passwords, then the right one). PATIENT: the patient to choose on the consent page
// when it asks ("-" for none). Prints one JSON object.
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const smart = require("fhirclient");

const [fhirBase, appPort, clientId, username, password, scope, patientChoice, mode] =
  process.argv.slice(2);
const appBase = `http://127.0.0.1:${appPort}`;
const out = {};

// The app's server-side session (one user here).
const session = {};
const storage = {
  get: async (k) => session[k],
  set: async (k, v) => ((session[k] = v), v),
  unset: async (k) => {
    const had = k in session;
    delete session[k];
    return had;
  },
};

const app = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, appBase);
    if (url.pathname === "/launch") {
      // An EHR launch opens the app with ?launch=...&iss=..., which fhirclient reads itself.
      const options = { clientId, scope, redirectUri: "/app", pkceMode: "required" };
      if (!url.searchParams.get("launch")) options.iss = fhirBase;
      await smart(req, res, storage).authorize(options);
      return;
    }
    if (url.pathname === "/app") {
      const client = await smart(req, res, storage).ready();
      const result = { patient: client.patient.id, fhirUser: client.user.fhirUser };
      result.scope = client.state.tokenResponse.scope;
      result.idToken = Boolean(client.state.tokenResponse.id_token);
      result.refreshToken = Boolean(client.state.tokenResponse.refresh_token);
      result.accessToken = client.state.tokenResponse.access_token;
      const bundle = await client.request("Condition");
      result.conditions = (bundle.entry || []).map((e) => e.resource.id).sort();
      try {
        await client.request("Observation");
        result.observation = 200;
      } catch (e) {
        result.observation = e.status || String(e);
      }
      if (result.refreshToken) {
        await client.refresh();
        const again = await client.request("Condition");
        result.afterRefresh = (again.entry || []).map((e) => e.resource.id).sort();
        result.refreshedToken = client.state.tokenResponse.access_token !== result.accessToken;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(result));
      return;
    }
    res.writeHead(404);
    res.end();
  } catch (e) {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end(String((e && e.stack) || e));
  }
});

// The browser's steps.
async function get(url, headers = {}) {
  return fetch(url, { redirect: "manual", headers });
}
async function post(url, form, headers = {}) {
  return fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
}
function hidden(html, name) {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  return m ? m[1].replace(/&amp;/g, "&") : "";
}
function unescapeHtml(s) {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

async function browse() {
  const launchUrl =
    mode === "ehr"
      ? `${appBase}/launch?launch=${encodeURIComponent(patientChoice)}&iss=${encodeURIComponent(fhirBase)}`
      : `${appBase}/launch`;
  let r = await get(launchUrl);
  if (r.status !== 302) throw new Error(`the app's /launch answered ${r.status}: ${await r.text()}`);
  const authorize = r.headers.get("location");
  r = await get(authorize);
  const login = await r.text();
  if (r.status !== 200) throw new Error(`authorize answered ${r.status}: ${login}`);
  const cookie = (r.headers.get("set-cookie") || "").split(";")[0];
  out.cookieFlags = r.headers.get("set-cookie") || "";
  const request = hidden(login, "request");
  const csrf = hidden(login, "csrf");
  // A forged form without the cookie is refused.
  out.loginWithoutCookie = (await post(`${fhirBase}/auth/login`, { request, csrf, username, password })).status;
  if (mode === "lockout") {
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (await post(`${fhirBase}/auth/login`, { request, csrf, username, password: `wrong-${i}` }, { cookie })).status
      );
    }
    out.wrongStatuses = statuses;
    const right = await post(`${fhirBase}/auth/login`, { request, csrf, username, password }, { cookie });
    out.afterLockout = right.status;
    out.lockedMessage = (await right.text()).includes("locked");
    return;
  }
  out.wrongPassword = (
    await post(`${fhirBase}/auth/login`, { request, csrf, username, password: "not-the-password" }, { cookie })
  ).status;
  r = await post(`${fhirBase}/auth/login`, { request, csrf, username, password }, { cookie });
  const consent = await r.text();
  if (r.status !== 200) throw new Error(`login answered ${r.status}: ${consent}`);
  const form = { request: hidden(consent, "request"), csrf: hidden(consent, "csrf"), decision: "approve" };
  for (const m of consent.matchAll(/name="(scope:[^"]*)"/g)) form[unescapeHtml(m[1])] = "on";
  out.askedForPatient = consent.includes('name="patient"');
  if (out.askedForPatient && patientChoice !== "-" && mode !== "ehr") form.patient = patientChoice;
  r = await post(`${fhirBase}/auth/consent`, form, { cookie });
  if (r.status !== 302) throw new Error(`consent answered ${r.status}: ${await r.text()}`);
  const back = new URL(r.headers.get("location"));
  const code = back.searchParams.get("code");
  if (mode === "wrong-verifier") {
    const t = await post(`${fhirBase}/auth/token`, {
      grant_type: "authorization_code",
      code,
      redirect_uri: `${appBase}/app`,
      client_id: clientId,
      code_verifier: "x".repeat(43),
    });
    out.tokenStatus = t.status;
    out.tokenError = (await t.json()).error;
    return;
  }
  r = await get(back.toString());
  const body = await r.text();
  if (r.status !== 200) throw new Error(`the app answered ${r.status}: ${body}`);
  Object.assign(out, JSON.parse(body));
  // The code again: refused, and the token it gave is revoked.
  const again = await post(`${fhirBase}/auth/token`, {
    grant_type: "authorization_code",
    code,
    redirect_uri: `${appBase}/app`,
    client_id: clientId,
    code_verifier: "y".repeat(43),
  });
  out.reuseStatus = again.status;
  out.reuseError = (await again.json()).error;
  const withRevoked = await get(`${fhirBase}/Condition`, { authorization: `Bearer ${out.accessToken}` });
  out.revokedStatus = withRevoked.status;
  delete out.accessToken;
}

app.listen(Number(appPort), "127.0.0.1", async () => {
  try {
    await browse();
  } catch (e) {
    out.error = String((e && e.message) || e);
  }
  console.log(JSON.stringify(out));
  app.close();
  setTimeout(() => process.exit(0), 100).unref();
});
