// A SMART Backend Services client made of panva/jose (npm), for auth_test.cc:
//
//   node smart_client.mjs keygen ES384|RS384 DIR        DIR/jwks.json (public), DIR/private.jwk
//   node smart_client.mjs assertion DIR CLIENT_ID AUD [EXP_SECONDS] [JTI]   a client assertion
//   node smart_client.mjs assertions DIR CLIENT_ID AUD COUNT [EXP_SECONDS]  COUNT assertions,
//                                                   each with its own jti, one per line (bench/auth)
//   node smart_client.mjs token SERVER_KEY_PEM CLAIMS_JSON                  a token signed with
//                                                   the server's own key (ES384), for tests of
//                                                   scopes the token endpoint does not grant
// Prints the result on stdout.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import {
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
} from "jose";

const [command, ...args] = process.argv.slice(2);

if (command === "keygen") {
  const [alg, dir] = args;
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(pub);
  Object.assign(pub, { kid, alg, use: "sig" });
  Object.assign(priv, { kid, alg });
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [pub] }));
  writeFileSync(join(dir, "private.jwk"), JSON.stringify(priv));
  console.log(kid);
} else if (command === "assertion") {
  // https://hl7.org/fhir/smart-app-launch/backend-services.html#protocol-details
  const [dir, clientId, aud, expSeconds = "240", jti = randomUUID()] = args;
  const priv = JSON.parse(readFileSync(join(dir, "private.jwk"), "utf8"));
  const key = await importJWK(priv, priv.alg);
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: priv.alg, kid: priv.kid, typ: "JWT" })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setExpirationTime(now + Number(expSeconds))
    .setJti(jti)
    .sign(key);
  console.log(jwt);
} else if (command === "assertions") {
  const [dir, clientId, aud, count, expSeconds = "280"] = args;
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1 || n > 1000000) {
    console.error("assertions: COUNT must be an integer from 1 to 1000000");
    process.exit(2);
  }
  const priv = JSON.parse(readFileSync(join(dir, "private.jwk"), "utf8"));
  const key = await importJWK(priv, priv.alg);
  const exp = Math.floor(Date.now() / 1000) + Number(expSeconds);
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(await new SignJWT({})
      .setProtectedHeader({ alg: priv.alg, kid: priv.kid, typ: "JWT" })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(aud)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key));
  }
  process.stdout.write(lines.join("\n") + "\n");
} else if (command === "token") {
  const [pemFile, claimsJson] = args;
  const key = await importPKCS8(readFileSync(pemFile, "utf8"), "ES384", { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(key));
  const jwt = await new SignJWT(JSON.parse(claimsJson))
    .setProtectedHeader({ alg: "ES384", kid, typ: "JWT" })
    .sign(key);
  console.log(jwt);
} else {
  console.error("usage: smart_client.mjs keygen|assertion|assertions|token ...");
  process.exit(2);
}
