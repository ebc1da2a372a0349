// What a `sensei` process loads before it knows its command: cli/main.ts and what it imports at the top (the command
// modules whose help texts it reads) reach only cli/, core/, Node's built-ins and zod. The graph, LangChain, the store,
// the server and the connectors are imported with import() by the commands that use them (see cli/main.ts).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The modules a source file imports at the top for their values (`import type` and import() left out), as written. */
function staticImports(file: string): string[] {
  const text = readFileSync(`${ROOT}${file}`, 'utf8');
  return [...text.matchAll(/^import\s+(?!type\b)[^'"]*?from\s+'([^']+)';/gm), ...text.matchAll(/^import\s+'([^']+)';/gm)].map((m) => m[1]!);
}

/** Every module loaded at start-up from `entry`: our files (repository paths) and packages, following our files. */
function startUpClosure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const target = new URL(spec.replace(/\.js$/, '.ts'), `file://${ROOT}${file}`).pathname.slice(ROOT.length);
      if (!existsSync(`${ROOT}${target}`)) throw new Error(`${file} imports ${spec}, which is not a source file (${target})`);
      visit(target);
    }
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

describe('start-up imports of the sensei command', () => {
  it('reads the static imports of a file, type-only and dynamic ones left out (the check itself can fail)', () => {
    expect(staticImports('cli/commands/certificate-target.ts')).toEqual([
      '../../connectors/open-target.js',
      '../../core/errors.js',
      '../../tools/certification/certificate-target-check.js',
    ]);
    expect(startUpClosure('cli/commands/certificate-target.ts').files).toContain('connectors/open-target.ts');
    expect(staticImports('cli/main.ts')).not.toContain('./commands/serve.js');
  });

  it('loads only cli/, core/, node: built-ins and zod before the command is known', () => {
    const { files, packages } = startUpClosure('cli/main.ts');
    expect(files).toContain('cli/commands/verify.ts');
    expect(files.filter((f) => !f.startsWith('cli/') && !f.startsWith('core/'))).toEqual([]);
    expect(packages.filter((p) => !p.startsWith('node:') && p !== 'zod')).toEqual([]);
  });
});
