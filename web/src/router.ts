// Client-side routes under /app/ (the server answers index.html for them): links marked data-link
// (and any same-origin link under /app/) change the page without a reload.
type Render = (main: HTMLElement, params: Record<string, string>, query: URLSearchParams) => void | Promise<void>;

interface Route {
  pattern: RegExp;
  keys: string[];
  render: Render;
  nav: string;
}

const routes: Route[] = [];

export function route(path: string, nav: string, render: Render): void {
  const keys: string[] = [];
  const pattern = new RegExp(
    '^' + path.replace(/:([a-z]+)/g, (_, k: string) => (keys.push(k), '([^/]+)')) + '/?$',
  );
  routes.push({ pattern, keys, render, nav });
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  void dispatch();
}

export async function dispatch(): Promise<void> {
  const main = document.getElementById('main')!;
  const path = location.pathname.replace(/^\/app/, '') || '/';
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
    document.querySelectorAll('[data-nav]').forEach((a) => {
      if ((a as HTMLElement).dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    await r.render(main, params, new URLSearchParams(location.search));
    return;
  }
  main.textContent = 'Page not found.';
}

export function start(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest('a');
    if (!a || a.target || a.origin !== location.origin || !a.pathname.startsWith('/app')) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
  window.addEventListener('popstate', () => void dispatch());
  void dispatch();
}

// After a page change: its title, and focus on its heading so that a screen reader announces it.
export function pageReady(title: string): void {
  document.title = `${title} · Vesta`;
  const h1 = document.querySelector<HTMLElement>('#main h1');
  if (h1 && document.activeElement?.id !== 'patient-search') {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: true });
  }
}
