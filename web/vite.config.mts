// Builds the web app into the build folder's web/ (CMake's vesta_web target passes --outDir),
// served by `vesta serve` under /app/ (docs/web-app.md).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  build: {
    outDir: fileURLToPath(new URL('../build/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: the app loads as one script and one style sheet.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
});
