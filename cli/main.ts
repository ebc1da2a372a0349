#!/usr/bin/env node
// The `sensei` command: demo, migrate, approve, status, errors, certificate verify.
// Heavy modules (the graph and its agents, LangChain, the store, the server, the connectors, zod schemas) are imported
// with import() where a command first needs them, not here: each `sensei` process loads only what its command uses
// (`--help` none of them, `certificate verify` no store and no LangChain). The command modules imported here keep to
// the same rule, since their help texts are read at start-up.
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, describeError, isConfigError, isSenseiError } from '../core/errors.js';
import type { SenseiConfig } from '../core/config.js';
import type { RunResult, SenseiRuntime } from '../graph/runtime.js';
import type { SenseiStore } from '../tools/store/sensei-store.js';
import { PLAN_HELP, runPlan } from './commands/plan.js';
import type { CommandKit } from './commands/kit.js';
import { cmdErrors, ERRORS_HELP } from './commands/errors.js';
import { cmdResume, RESUME_HELP } from './commands/resume.js';
import { ANALYZE_HELP, runAnalyze } from './commands/analyze.js';
import { RETENTION_HELP, cmdRetention } from './commands/retention.js';
import { VERIFY_HELP, cmdVerify } from './commands/verify.js';
import { WAIVER_HELP, cmdWaiver } from './commands/waiver.js';
import { applyProcessFlags } from './process-flags.js';
import { createProgressRenderer } from './progress.js';

/** Exit codes: documented in the README and in `sensei --help`. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  awaitingApproval: 3,
  verificationFailed: 4,
  rejected: 5,
} as const;

const HELP: Record<string, string> = {
  analyze: ANALYZE_HELP,
  main: `sensei — migrate a database and prove the result

Usage: sensei <command> [options]

Commands:
  demo                      migrate the bundled legacy sample into an embedded PostgreSQL (no server needed)
  migrate -c sensei.yaml    run a migration: analyze → plan → approve → execute → verify → certify
  plan -c sensei.yaml       print the mapping plan (confidence, transformations, rules, phases); writes nothing
  approve RUN_ID            approve (or --reject) a run that waits for approval, and continue it
  resume RUN_ID             continue an interrupted run from its last checkpoint
  status RUN_ID             show a run's status and per-table counts
  errors list|show|retry RUN_ID  review the rows a run queued (decrypted for you) and replay them once fixed
  certificate verify FILE   check a certificate's signature, canonical form and hash chain (--target URL: and the data)
  verify RUN_ID             verify a run's target again against the source as captured
  waiver add RUN_ID …       approve a documented exception for one failing finding (list, revoke)
  retention purge           remove validation results and captures past the retention period
  serve [--port N]          the REST API, WebSocket chat with AMANI and the web console on one port
  token create|list|revoke  bearer tokens for stakeholders (viewer, approver, admin)
  analyze --source URL      profile a source: types, semantic and PII classes, relationships

Global options:
  -h, --help                help for a command (sensei <command> --help)
  --version                 print the version

Environment:
  SENSEI_HOME               where the embedded store, keys and certificates live (default ./.sensei)
  SENSEI_STORE_URL          a PostgreSQL server with pgvector to use as the store instead
  SENSEI_ENCRYPTION_KEY     key for the error queue (64 hex chars); default a key file in SENSEI_HOME/keys

Exit codes: 0 done · 1 failed · 2 usage or configuration error · 3 waiting for approval ·
            4 verification failed (no certificate) · 5 rejected by a stakeholder`,
  demo: `Usage: sensei demo [--json] [--quiet]

Builds the bundled legacy sample (an SQLite database: departments, employees, projects, assignments, an FK cycle,
self-references and a few bad rows) and migrates it into an embedded PostgreSQL (PGlite) under SENSEI_HOME/demo,
through all seven stages with auto-approval. Prints a summary and the certificate's path.

Options:
  --json     print one JSON object: { run_id, status, certificate, tables: [{ source, target, rows_read, rows_written, rows_errored }] }
  --quiet    no progress output on stderr`,
  migrate: `Usage: sensei migrate -c sensei.yaml [--yes] [--json] [--quiet]

Runs a migration described by a YAML config (see README: Configuration). Stops with exit code 3 when a mapping needs a
human's approval; continue it with \`sensei approve RUN_ID\`.

Options:
  -c, --config FILE   the configuration file (required)
  -y, --yes           approve every mapping up front, whatever its confidence
  --json              print one JSON object (same shape as demo, plus approval_request when waiting)
  --quiet             no progress output on stderr`,
  approve: `Usage: sensei approve RUN_ID [--by NAME] [--reject --reason TEXT] [--json] [--quiet]

Answers a run that waits for approval and continues it in this process (execution, verification, certificate).

Options:
  --by NAME        who approves (default: $USER)
  --reject         reject the plan instead; the run ends with status rejected (exit code 5)
  --reason TEXT    why (recorded in the audit log)
  --json           print one JSON object (same shape as migrate)
  --quiet          no progress output on stderr`,
  plan: PLAN_HELP,
  resume: RESUME_HELP,
  status: `Usage: sensei status RUN_ID [--json]

Shows a run's status, stage, per-table counts and certificate path.`,
  errors: ERRORS_HELP,
  verify: VERIFY_HELP,
  waiver: WAIVER_HELP,
  retention: RETENTION_HELP,
  certificate: `Usage: sensei certificate verify FILE [--fingerprint HEX] [--target URL] [--json]

Checks that FILE is byte-for-byte a canonical Sensei certificate, that its Ed25519 signature verifies and that its hash
chain recomputes. Exit 0 and "valid" when it does; exit 1 naming every problem when it does not.

Options:
  --fingerprint HEX   also require the signing key to have this SHA-256 fingerprint
  --target URL        also re-hash the target database and report whether it still holds what was certified,
                      naming table and key of every changed, missing or extra row (with the row-hash file next to FILE)
  --json              print { valid, problems, fingerprint }`,
  serve: `Usage: sensei serve [--port N] [--host ADDR] [--json]

Starts the REST API (OpenAPI document at /openapi.json), the WebSocket chat with AMANI at /ws/runs/RUN_ID?token=…
and the web console at /, on one port (default 7860, 0 = any free port) of 127.0.0.1 (or --host). Every route but
/, /health and /openapi.json needs a bearer token (sensei token create). With OPENAI_API_KEY set AMANI reads chat
messages with the LLM (tool calling); without it, with its documented grammar (see README). Stops on SIGINT/SIGTERM.

Options:
  --port N      port to listen on (default 7860)
  --host ADDR   address to listen on (default 127.0.0.1)
  --json        print one JSON line { listening, url } once listening`,
  token: `Usage: sensei token create --name NAME --role viewer|approver|admin [--tables T1,T2] [--json]
       sensei token list [--json]
       sensei token revoke TOKEN_ID

Bearer tokens for the server. The token is printed once and stored only as a SHA-256 hash. Viewers read and chat;
approvers also approve, modify and reject (only in --tables when given); admins do everything, including tokens.`,
};

class UsageError extends ConfigError {}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

function args<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options: { ...HELP_OPTION, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${e instanceof Error ? e.message : String(e)}`, { hint: `see sensei ${command} --help` });
  }
}

const home = (): string => resolve(process.env.SENSEI_HOME ?? '.sensei');

async function withRuntime<T>(quiet: boolean, fn: (rt: SenseiRuntime) => Promise<T>): Promise<T> {
  const progress = createProgressRenderer(process.stderr, { quiet });
  const { createRuntime } = await import('../graph/runtime.js');
  const rt = await createRuntime({
    home: home(),
    ...(process.env.SENSEI_STORE_URL ? { storeUrl: process.env.SENSEI_STORE_URL } : {}),
    onProgress: (_id, p) => progress.update(p),
    onStage: (id, s) => progress.stage(id, s),
    onRetry: (_id, n) => progress.retry(n),
  });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** The store alone, for commands that only read or purge what it holds: no graph, agents or LLM client is loaded. */
async function withStore<T>(fn: (store: SenseiStore) => Promise<T>): Promise<T> {
  const { openStore } = await import('../tools/store/sensei-store.js');
  const store = await openStore({ home: home(), ...(process.env.SENSEI_STORE_URL ? { url: process.env.SENSEI_STORE_URL } : {}) });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function resultJson(r: RunResult): Record<string, unknown> {
  return {
    run_id: r.runId,
    status: r.status,
    stage: r.stage,
    certificate: r.certificatePath,
    tables: r.tables.map((t) => ({
      source: t.source,
      target: t.target,
      rows_read: t.rows_read,
      rows_written: t.rows_written,
      rows_errored: t.rows_errored,
    })),
    ...(r.approvalRequest ? { approval_request: r.approvalRequest } : {}),
    ...(r.verification ? { verification: r.verification } : {}),
    ...(r.error ? { error: errorJson(r.error) } : {}),
  };
}

function errorJson(e: unknown): Record<string, unknown> {
  return isSenseiError(e) ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } : { code: 'INTERNAL', message: describeError(e) };
}

function printResult(r: RunResult, json: boolean): number {
  if (json) process.stdout.write(`${JSON.stringify(resultJson(r), null, 2)}\n`);
  else printHuman(r);
  if (r.error) {
    if (!json) process.stderr.write(`sensei: run ${r.runId} failed: ${describeError(r.error)}\n`);
    return isConfigError(r.error) ? EXIT.usage : EXIT.failed;
  }
  switch (r.status) {
    case 'completed':
      return EXIT.ok;
    case 'awaiting_approval':
      return EXIT.awaitingApproval;
    case 'rejected':
      return EXIT.rejected;
    default:
      return r.verification && !r.verification.passed ? EXIT.verificationFailed : EXIT.failed;
  }
}

function printHuman(r: RunResult): void {
  const out: string[] = [];
  out.push(`Run ${r.runId}: ${r.status} (stage ${r.stage})`);
  if (r.tables.length > 0) {
    const rows = r.tables.map((t) => [t.source, t.target, String(t.rows_read), String(t.rows_written), String(t.rows_errored)]);
    const head = ['source', 'target', 'read', 'written', 'queued'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const fmt = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    out.push('', fmt(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt));
    const queued = r.tables.reduce((a, t) => a + t.rows_errored, 0);
    if (queued > 0) out.push('', `${queued} row(s) are in the error queue: sensei errors list ${r.runId}`);
  }
  if (r.verification) {
    out.push('', `Verification: ${r.verification.passed ? 'passed' : 'FAILED'}`);
    for (const c of r.verification.checks) {
      out.push(`  ${c.passed ? '✓' : '✗'} ${c.perspective}: ${c.check} (${c.checked} checked)`);
      for (const f of c.findings.slice(0, 20)) out.push(`      ${f.code} at ${f.path.join('.')}: ${f.message}`);
    }
  }
  if (r.approvalRequest) {
    const a = r.approvalRequest;
    out.push('', `Waiting for approval: ${a.summary}`);
    for (const m of a.pending.slice(0, 50)) {
      out.push(`  [${m.band}] ${m.sourceTable}.${m.sourceColumn} → ${m.targetTable}.${m.targetColumn}  confidence ${m.confidence.toFixed(2)}  (${m.rationale})`);
    }
    out.push('', `Approve with: sensei approve ${r.runId}    (or reject: sensei approve ${r.runId} --reject --reason "…")`);
  }
  if (r.certificatePath) out.push('', `Certificate: ${r.certificatePath}`, `Check it with: sensei certificate verify ${r.certificatePath}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function cmdDemo(argv: string[]): Promise<number> {
  const { values } = args(argv, { json: { type: 'boolean' }, quiet: { type: 'boolean' } }, 'demo');
  if (values.help) return help('demo');
  const [{ newRunId }, { createLegacySample }, { parseConfig }] = await Promise.all([
    import('../graph/runtime.js'),
    import('../tools/demo/legacy-sample.js'),
    import('../tools/ingest/load-config.js'),
  ]);
  const runId = newRunId();
  const dir = join(home(), 'demo', runId);
  await mkdir(dir, { recursive: true });
  const sample = createLegacySample(join(dir, 'legacy.db'));
  const config: SenseiConfig = parseConfig(
    { source: { url: `sqlite://${sample.path}` }, target: { url: `pglite://${join(dir, 'target')}` } },
    'demo config',
  );
  if (!values.json && !values.quiet) process.stderr.write(`Legacy sample: ${sample.path}\nTarget: embedded PostgreSQL at ${join(dir, 'target')}\n`);
  const result = await withRuntime(Boolean(values.quiet || values.json), (rt) => rt.start(config, dir, { preApproved: true, runId }));
  return printResult(result, Boolean(values.json));
}

async function cmdMigrate(argv: string[]): Promise<number> {
  const { values } = args(argv, { config: { type: 'string', short: 'c' }, yes: { type: 'boolean', short: 'y' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } }, 'migrate');
  if (values.help) return help('migrate');
  if (!values.config) throw new UsageError('migrate needs a configuration file: -c sensei.yaml', { hint: 'see sensei migrate --help' });
  const { loadConfig } = await import('../tools/ingest/load-config.js');
  const loaded = await loadConfig(values.config);
  const result = await withRuntime(Boolean(values.quiet), (rt) => rt.start(loaded.config, loaded.baseDir, { preApproved: Boolean(values.yes) }));
  return printResult(result, Boolean(values.json));
}

async function cmdPlan(argv: string[]): Promise<number> {
  const { values } = args(argv, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, 'plan');
  if (values.help) return help('plan');
  if (!values.config) throw new UsageError('plan needs a configuration file: -c sensei.yaml', { hint: 'see sensei plan --help' });
  const { loadConfig } = await import('../tools/ingest/load-config.js');
  const loaded = await loadConfig(values.config);
  return runPlan(loaded.config, loaded.baseDir, Boolean(values.json), { home: home(), ...(process.env.SENSEI_STORE_URL ? { url: process.env.SENSEI_STORE_URL } : {}) });
}

async function cmdApprove(argv: string[]): Promise<number> {
  const { values, positionals } = args(
    argv,
    { by: { type: 'string' }, reject: { type: 'boolean' }, reason: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } },
    'approve',
  );
  if (values.help) return help('approve');
  const runId = positionals[0];
  if (!runId || positionals.length > 1) throw new UsageError('approve takes exactly one RUN_ID', { hint: 'see sensei approve --help' });
  const answer = {
    decision: values.reject ? 'reject' : 'approve',
    by: values.by ?? process.env.USER ?? 'cli',
    ...(values.reason ? { reason: values.reason } : {}),
  };
  const result = await withRuntime(Boolean(values.quiet), (rt) => rt.resume(runId, answer));
  return printResult(result, Boolean(values.json));
}

async function cmdStatus(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, { json: { type: 'boolean' } }, 'status');
  if (values.help) return help('status');
  const runId = positionals[0];
  if (!runId) throw new UsageError('status takes a RUN_ID', { hint: 'see sensei status --help' });
  return withStore(async (store) => {
    const run = await store.getRun(runId);
    if (!run) throw new ConfigError(`no run ${runId} in the store at ${store.location}`, { hint: 'check the run id and SENSEI_HOME / SENSEI_STORE_URL' });
    const summary = (run.summary ?? {}) as { tables?: RunResult['tables'] };
    const r = { run_id: run.id, status: run.status, stage: run.stage, certificate: run.certificatePath, error: run.error, tables: summary.tables ?? [] };
    if (values.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      process.stdout.write(`Run ${run.id}: ${run.status} (stage ${run.stage})\n`);
      for (const t of r.tables) process.stdout.write(`  ${t.source} → ${t.target}: read ${t.rows_read}, written ${t.rows_written}, queued ${t.rows_errored}\n`);
      if (run.error) process.stdout.write(`Error: ${run.error}\n`);
      if (run.certificatePath) process.stdout.write(`Certificate: ${run.certificatePath}\n`);
    }
    return EXIT.ok;
  });
}

async function cmdCertificate(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, { fingerprint: { type: 'string' }, target: { type: 'string' }, json: { type: 'boolean' } }, 'certificate');
  if (values.help) return help('certificate');
  const [sub, file] = positionals;
  if (sub !== 'verify' || !file) throw new UsageError('usage: sensei certificate verify FILE', { hint: 'see sensei certificate --help' });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read certificate file ${file}`);
  }
  const { verifyCertificateText } = await import('../tools/certification/certificate-verifier.js');
  const res = verifyCertificateText(text, values.fingerprint ? { trustedFingerprint: values.fingerprint } : undefined);
  if (values.target !== undefined && res.valid) {
    const { checkCertificateTarget } = await import('./commands/certificate-target.js');
    const { check, problems } = await checkCertificateTarget(file, res.certificate, values.target);
    const rowHashes = check.rowHashes && { format: check.rowHashes.format, bits_per_row: check.rowHashes.bitsPerRow };
    if (values.json) process.stdout.write(`${JSON.stringify({ valid: true, target_matches: check.matches && problems.length === 0, tables: check.tables, findings: check.findings, problems, row_hashes: rowHashes }, null, 2)}\n`);
    else {
      if (problems.length === 0) process.stdout.write(`valid, and the target still holds what was certified (${check.tables.length} table(s))\n`);
      else process.stdout.write(`valid certificate, but the TARGET DIFFERS:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
      if (check.rowHashes && check.rowHashes.bitsPerRow < 128) {
        process.stdout.write(`note: the row-hash file is format ${check.rowHashes.format}, which holds ${check.rowHashes.bitsPerRow} bits of each row's md5: rows were compared by those bits only\n`);
      }
    }
    return problems.length === 0 ? EXIT.ok : EXIT.verificationFailed;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(res.valid ? { valid: true, problems: [], fingerprint: res.fingerprint, run_id: res.certificate.payload.run_id } : { valid: false, problems: res.problems }, null, 2)}\n`);
  } else if (res.valid) {
    const p = res.certificate.payload;
    process.stdout.write(`valid: certificate of run ${p.run_id}, ${p.coverage.tables} table(s), ${p.coverage.rows_written} row(s) written, signed by key ${res.fingerprint}\n`);
  } else {
    process.stdout.write(`INVALID: ${file}\n${res.problems.map((p) => `  - ${p}`).join('\n')}\n`);
  }
  return res.valid ? EXIT.ok : EXIT.failed;
}

function help(topic: string): number {
  process.stdout.write(`${HELP[topic] ?? HELP.main}\n`);
  return EXIT.ok;
}

const kit: CommandKit = {
  args: (argv, options, command) => args(argv, options, command) as ReturnType<CommandKit['args']>,
  withRuntime,
  withStore,
  printResult,
  help,
  usageError: (message, command) => new UsageError(message, { hint: `see sensei ${command} --help` }),
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        return help(rest[0] ?? 'main');
      case '--version': {
        const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
        process.stdout.write(`${pkg.version}\n`);
        return EXIT.ok;
      }
      case 'demo':
        return await cmdDemo(rest);
      case 'migrate':
        return await cmdMigrate(rest);
      case 'approve':
        return await cmdApprove(rest);
      case 'plan':
        return await cmdPlan(rest);
      case 'resume':
        return await cmdResume(rest, kit);
      case 'status':
        return await cmdStatus(rest);
      case 'errors':
        return await cmdErrors(rest, kit);
      case 'certificate':
        return await cmdCertificate(rest);
      case 'serve':
        return rest.includes('--help') || rest.includes('-h') ? help('serve') : await (await import('./commands/serve.js')).cmdServe(rest);
      case 'token':
        return rest.includes('--help') || rest.includes('-h') ? help('token') : await (await import('./commands/token.js')).cmdToken(rest);
      case 'analyze': {
        const { values } = args(rest, { source: { type: 'string' }, config: { type: 'string', short: 'c' }, sample: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } }, 'analyze');
        return values.help ? help('analyze') : await runAnalyze(values);
      }
      case 'verify':
        return await cmdVerify(rest, { home: home(), withRuntime, withStore, help });
      case 'retention':
        return await cmdRetention(rest, { home: home(), withRuntime, withStore, help });
      case 'waiver':
        return await cmdWaiver(rest, { home: home(), withRuntime, withStore, help });
      default:
        process.stderr.write(`sensei: unknown command '${command}'\n\n${HELP.main}\n`);
        return EXIT.usage;
    }
  } catch (e) {
    const json = rest.includes('--json');
    if (json) process.stdout.write(`${JSON.stringify({ error: errorJson(e) }, null, 2)}\n`);
    process.stderr.write(`sensei: ${describeError(e)}\n`);
    return isConfigError(e) ? EXIT.usage : EXIT.failed;
  }
}

applyProcessFlags();
// A reader that stops early (`sensei errors list | head`) closes the pipe: the rest of the output is dropped, as other
// command-line tools drop it, and the command finishes its work and exits with its own code, instead of crashing on
// EPIPE. Any other output error still ends the process.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sensei: ${describeError(e)}\n`);
    process.exitCode = EXIT.failed;
  },
);
