// Read sensei.yaml: YAML → zod-validated config, with every problem named by its path, and no secret accepted inline.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { SenseiConfig, type EndpointConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';

export interface LoadedConfig {
  config: SenseiConfig;
  /** Directory of the config file: relative paths in it resolve here. */
  baseDir: string;
  path: string;
}

export async function loadConfig(path: string): Promise<LoadedConfig> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch {
    throw new ConfigError(`cannot read the config file ${abs}`, { hint: 'pass an existing YAML file with -c (see README: Configuration)' });
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ConfigError(`${abs} is not valid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { config: parseConfig(raw, abs), baseDir: dirname(abs), path: abs };
}

/** Validates an already-parsed config object; `where` names it in messages. */
export function parseConfig(raw: unknown, where = 'config'): SenseiConfig {
  const parsed = SenseiConfig.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n');
    throw new ConfigError(`${where} is not a valid Sensei configuration:\n${problems}`, {
      hint: 'see README: Configuration for the `source:`, `target:` and `strategy:` blocks',
    });
  }
  const config = parsed.data;
  refuseInlineSecret(config.source, 'source');
  refuseInlineSecret(config.target, 'target');
  if (!config.source.url && !config.source.type) throw new ConfigError(`${where}: source needs a url: or a type:`);
  if (!config.target.url && !config.target.type) throw new ConfigError(`${where}: target needs a url: or a type:`);
  if (config.strategy.review_above > config.strategy.auto_approve_above) {
    throw new ConfigError(`${where}: strategy.review_above (${config.strategy.review_above}) is above strategy.auto_approve_above (${config.strategy.auto_approve_above})`);
  }
  return config;
}

/** The config is stored with the run: a password in it would be stored too, so it must be a reference. */
function refuseInlineSecret(e: EndpointConfig, role: string): void {
  if (!e.url || /^(env|file|vault):/.test(e.url)) return;
  let password = '';
  try {
    password = new URL(e.url).password;
  } catch {
    return;
  }
  if (password) {
    throw new ConfigError(`${role}.url contains an inline password`, {
      hint: `remove it from the URL and add \`credentials: env://NAME\` (or file:///path, vault://path#key) to the ${role} block, or make the whole url a reference: url: env://NAME`,
    });
  }
}
