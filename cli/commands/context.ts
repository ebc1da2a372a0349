// What a command in its own file gets from cli/main.ts: the home, a runtime, and argument parsing with usage errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import type { SenseiRuntime } from '../../graph/runtime.js';
import type { SenseiStore } from '../../tools/store/sensei-store.js';

export interface CommandContext {
  home: string;
  withRuntime<T>(quiet: boolean, fn: (rt: SenseiRuntime) => Promise<T>): Promise<T>;
  /** The store alone (opened and closed as the runtime does it), for commands that need no graph: lighter to start. */
  withStore<T>(fn: (store: SenseiStore) => Promise<T>): Promise<T>;
  /** Print the command's help; returns exit code 0. */
  help(topic: string): number;
}

export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new ConfigError(`${e instanceof Error ? e.message : String(e)}`, { hint: `see sensei ${command} --help` });
  }
}
