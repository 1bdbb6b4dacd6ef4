// The web app signs a user in through Vesta's authorization server (`vesta serve --auth smart`;
// docs/web-app.md "Signing in"): /app/ sends the browser to the authorization endpoint as the
// client vesta-web with PKCE, the user signs in and allows access, the app exchanges the code and
// its searches carry the token. Run by web_app_test.cc:
//
//   node tests/web/smart_signin.mjs --base URL --user NAME --password-file FILE [--chromium PATH]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../package.json'));
const { chromium } = require('playwright-core');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const base = arg('base');
let failures = 0;
const check = (ok, what, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures += 1;
};

const browser = await chromium.launch({ executablePath: arg('chromium', '/usr/bin/chromium'), args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  const searches = [];
  page.on('request', (r) => {
    if (r.url().includes('/Patient?')) searches.push(r.headers().authorization ?? '');
  });
  await page.goto(`${base}/app/`);
  await page.waitForSelector('input[name=username]', { timeout: 10000 });
  const at = new URL(page.url());
  check(at.pathname === '/auth/authorize' || at.pathname.startsWith('/auth/'), 'the app sends the browser to the authorization server', at.pathname);
  await page.fill('input[name=username]', arg('user'));
  await page.fill('input[name=password]', readFileSync(arg('password-file'), 'utf8'));
  await page.click('button[type=submit]');
  await page.locator('button[value=approve]').click();
  await page.waitForSelector('#patient-search', { timeout: 10000 });
  check(new URL(page.url()).pathname === '/app/' && !page.url().includes('code='), 'back in the app, the code gone from the address', page.url());
  await page.fill('#patient-search', 'M0000');
  await page.fill('#patient-search', 'Smith');
  await page.waitForFunction(() => /patient|No patient/.test(document.querySelector('#search-status')?.textContent ?? ''), null, { timeout: 10000 });
  const status = await page.locator('#search-status').innerText();
  check(!status.includes('failed'), 'the search is answered', status);
  check(searches.length > 0 && searches.every((h) => h.startsWith('Bearer ')), 'every search carries the bearer token', `${searches.length} searches`);
  check((await page.locator('#session').innerText()).includes('Sign out'), 'a sign-out button is shown');
} catch (err) {
  check(false, 'the sign-in finished', String(err?.stack ?? err));
} finally {
  await browser.close();
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
