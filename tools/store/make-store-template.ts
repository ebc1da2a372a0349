// Build step (`npm run build`): make the store template in dist/store-template, unless the one there is current.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from './sensei-store.js';
import { checkStoreTemplate, defaultStoreTemplateDir, packStoreTemplate } from './store-template.js';

/**
 * Make the template of a fresh embedded store in `templateDir`: a store opened once by `openStore` with initdb (store
 * migrations, pgvector, LangGraph checkpoint tables; no runs), closed, and packed. A template that is already current
 * and intact is kept. Returns what was done, for the build log.
 */
export async function makeStoreTemplate(templateDir = defaultStoreTemplateDir()): Promise<string> {
  const checked = await checkStoreTemplate(templateDir);
  if ('manifest' in checked) return `store template ${templateDir} is current (store schema ${checked.manifest.storeSchema}, PGlite ${checked.manifest.pglite})`;
  const started = Date.now();
  const home = mkdtempSync(join(tmpdir(), 'sensei-store-template-build-'));
  try {
    const store = await openStore({ home, template: null });
    await store.close();
    const m = packStoreTemplate(join(home, 'store'), templateDir);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    return `store template made in ${templateDir} (${checked.reason}): ${m.files} files, ${(m.bytes / 1024 / 1024).toFixed(1)} MB, ${seconds} s`;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

// Run as a script (the build runs the compiled file): make the default template.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  makeStoreTemplate().then(
    (line) => process.stdout.write(`${line}\n`),
    (e: unknown) => {
      process.stderr.write(`making the store template failed: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
