// What every command file gets from cli/main.ts, passed in so that command files never import the entry module.
import type { ParseArgsConfig } from 'node:util';
import type { RunResult, SenseiRuntime } from '../../graph/runtime.js';
import type { SenseiStore } from '../../tools/store/sensei-store.js';

export interface CommandKit {
  /** parseArgs with `--help`, strict, positionals allowed; a usage error names the command's help. */
  args<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, command: string): {
    values: Record<string, string | boolean | undefined>;
    positionals: string[];
  };
  withRuntime<T>(quiet: boolean, fn: (rt: SenseiRuntime) => Promise<T>): Promise<T>;
  /** The store alone (opened and closed as the runtime does it), for commands that need no graph: lighter to start. */
  withStore<T>(fn: (store: SenseiStore) => Promise<T>): Promise<T>;
  /** Prints a run's result (human or JSON) and returns the exit code. */
  printResult(r: RunResult, json: boolean): number;
  help(topic: string): number;
  usageError(message: string, command: string): Error;
}
