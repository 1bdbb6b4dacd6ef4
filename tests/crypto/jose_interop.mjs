// The other side of jose_interop_test.cc: panva/jose (npm "jose", pinned in package-lock.json),
// a widely used JOSE implementation, makes keys and tokens for our verifier and checks ours.
//
//   node jose_interop.mjs make          prints {"jwks":{...},"tokens":[{"alg","token"}...]}
//   node jose_interop.mjs verify FILE   FILE holds {"jwks":{...},"tokens":[{"alg","token"}...]};
//                                       prints {"results":[{"ok","payload"|"error"}...],
//                                       "thumbprints":[...]} (jose's RFC 7638 thumbprint of each key)
import { readFileSync } from 'node:fs';
import * as jose from 'jose';

const claims = { iss: 'jose-client', sub: 'jose-client', aud: 'https://fhir.example/token',
                 jti: 'jose-1', exp: 1767225600, iat: 1767225000 };

async function make() {
  const keys = [];
  const tokens = [];
  for (const alg of ['ES384', 'RS384']) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    jwk.kid = await jose.calculateJwkThumbprint(jwk, 'sha256');
    jwk.alg = alg;
    jwk.use = 'sig';
    keys.push(jwk);
    const withKid = await new jose.SignJWT(claims)
        .setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT' }).sign(privateKey);
    const withoutKid = await new jose.SignJWT({ ...claims, jti: 'jose-2' })
        .setProtectedHeader({ alg }).sign(privateKey);
    tokens.push({ alg, token: withKid }, { alg, token: withoutKid });
  }
  process.stdout.write(JSON.stringify({ jwks: { keys }, tokens }));
}

async function verify(file) {
  const input = JSON.parse(readFileSync(file, 'utf8'));
  const keySet = jose.createLocalJWKSet(input.jwks);
  const results = [];
  for (const { alg, token } of input.tokens) {
    try {
      const { payload } = await jose.jwtVerify(token, keySet, { algorithms: [alg] });
      results.push({ ok: true, payload });
    } catch (e) {
      results.push({ ok: false, error: `${e.code ?? e.name}: ${e.message}` });
    }
  }
  const thumbprints = [];
  for (const jwk of input.jwks.keys) thumbprints.push(await jose.calculateJwkThumbprint(jwk));
  process.stdout.write(JSON.stringify({ results, thumbprints }));
}

const [mode, file] = process.argv.slice(2);
if (mode === 'make') {
  await make();
} else if (mode === 'verify') {
  await verify(file);
} else {
  process.stderr.write('usage: jose_interop.mjs make | verify FILE\n');
  process.exit(2);
}
