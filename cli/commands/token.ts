// `sensei token create|list|revoke`: stakeholder bearer tokens for the server (stored hashed in the Sensei store).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { openStore } from '../../tools/store/sensei-store.js';
import { createTokenStore, Role } from '../../tools/store/token-store.js';

export async function cmdToken(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { name: { type: 'string' }, role: { type: 'string' }, tables: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new ConfigError((e as Error).message, { hint: 'see sensei token --help' });
  }
  const { values, positionals } = parsed;
  const [sub, id] = positionals;
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new ConfigError('usage: sensei token create|list|revoke', { hint: 'see sensei token --help' });
  if (sub === 'create') {
    if (!values.name || !values.role) throw new ConfigError('token create needs --name and --role', { hint: 'e.g. sensei token create --name alice --role approver --tables customers,orders' });
    if (!Role.safeParse(values.role).success) throw new ConfigError(`unknown role "${values.role}": viewer, approver or admin`, { hint: 'see sensei token --help' });
  }
  if (sub === 'revoke' && !id) throw new ConfigError('token revoke needs the token id (sensei token list shows it)', { hint: 'see sensei token --help' });

  const store = await openStore({ home: resolve(process.env.SENSEI_HOME ?? '.sensei'), ...(process.env.SENSEI_STORE_URL ? { url: process.env.SENSEI_STORE_URL } : {}) });
  const out = (json: unknown, text: string): void => {
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  };
  try {
    const tokens = createTokenStore(store.pool);
    if (sub === 'create') {
      const tables = values.tables ? values.tables.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
      const { token, stakeholder } = await tokens.create({ name: values.name!, role: values.role as Role, ...(tables ? { tables } : {}) });
      out({ token, ...stakeholder }, `${token}\n(token ${stakeholder.id} for ${stakeholder.name}, ${stakeholder.role}${stakeholder.tables ? ` on ${stakeholder.tables.join(', ')}` : ''}; shown once, stored only hashed)`);
      return 0;
    }
    if (sub === 'list') {
      const all = await tokens.list();
      out({ tokens: all }, all.map((t) => `${t.id}  ${t.name}  ${t.role}  ${t.tables?.join(',') ?? '*'}  ${t.revokedAt ? `revoked ${t.revokedAt}` : 'live'}`).join('\n') || 'no tokens');
      return 0;
    }
    if (!(await tokens.revoke(id!))) throw new ConfigError(`no live token ${id}`, { hint: 'sensei token list shows the ids' });
    out({ revoked: id }, `revoked ${id}`);
    return 0;
  } finally {
    await store.close();
  }
}
