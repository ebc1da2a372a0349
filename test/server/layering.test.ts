// The dependency direction of ARCHITECTURE.md for the server side: server/ and its commands reach agents only through graph/.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The top-level folders of our own code a file imports (relative imports only; packages are not ours). */
function importedFolders(file: string): string[] {
  const text = readFileSync(`${ROOT}${file}`, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm), ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
  const folders = specifiers
    .filter((s) => s.startsWith('.'))
    .map((s) => new URL(s, `file://${ROOT}${file}`).pathname.slice(ROOT.length).split('/')[0]!);
  return [...new Set(folders)].sort();
}

const ts = (dir: string): string[] => readdirSync(`${ROOT}${dir}`).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`);

describe('layering of the server side', () => {
  it('reads the imports of a file (the check itself can fail)', () => {
    expect(importedFolders('graph/amani-service.ts')).toEqual(['agents', 'core', 'graph']);
  });

  it('server/ imports only graph/, core/, tools/ and itself', () => {
    const files = ts('server');
    expect(files.length).toBeGreaterThan(5);
    const bad = files.flatMap((f) => importedFolders(f).filter((d) => !['graph', 'core', 'tools', 'server'].includes(d)).map((d) => `${f} → ${d}/`));
    expect(bad).toEqual([]);
  });

  it('sensei serve and sensei token import no agent', () => {
    const bad = ['cli/commands/serve.ts', 'cli/commands/token.ts'].flatMap((f) => importedFolders(f).filter((d) => !['graph', 'core', 'tools', 'server', 'cli'].includes(d)).map((d) => `${f} → ${d}/`));
    expect(bad).toEqual([]);
  });

  it("AMANI's modules never import the graph, the server or the CLI", () => {
    const files = ts('agents').filter((f) => f.startsWith('agents/amani'));
    const bad = files.flatMap((f) => importedFolders(f).filter((d) => ['graph', 'server', 'cli'].includes(d)).map((d) => `${f} → ${d}/`));
    expect(bad).toEqual([]);
  });
});
