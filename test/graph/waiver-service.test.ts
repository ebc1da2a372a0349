// The waiver service on a real embedded store: a run verified several times lists, and lets a stakeholder waive, only
// the latest verification's findings, read as one stored result (latestValidation), not the run's whole history.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationReport } from '../../core/findings.js';
import { createWaiverService, type WaiverService } from '../../graph/waiver-service.js';
import { loadSecretBox } from '../../tools/store/secret-box.js';
import { openStore, type SenseiStore } from '../../tools/store/sensei-store.js';
import { createCaptureStore, type CaptureStore } from '../../tools/verification/capture-store.js';
import { findingId } from '../../tools/verification/waivers.js';
import { tempDir } from '../fixtures/databases.js';
import { homeWithStore } from '../fixtures/store-template.js';

const failing = (findings: VerificationReport['checks'][number]['findings']): VerificationReport => ({
  passed: false,
  checks: [{ perspective: 'behavioral', check: 'queries and rows', passed: false, checked: 3, findings }],
});
const avg = { code: 'query_mismatch' as const, path: ['queries', 'avg'], query: 'avg', expectedRows: 1, actualRows: 1, message: 'query avg differs from the source' };
const changed = { code: 'row_changed' as const, path: ['items', 'id=77'], table: 'items', key: { id: '77' }, message: 'items (id=77): row differs from the captured source' };
const missing = { code: 'row_missing' as const, path: ['items', 'id=9'], table: 'items', key: { id: '9' }, message: 'items (id=9): row of the captured source is missing from the target' };

describe('waiver service with several stored verifications of a run', () => {
  const dir = tempDir('sensei-waiver-service-');
  const home = homeWithStore(join(dir.path, 'home'));
  let store: SenseiStore;
  let captures: CaptureStore;
  let waivers: WaiverService;
  const reads: string[] = [];

  beforeAll(async () => {
    store = await openStore({ home });
    captures = createCaptureStore(store.pool, loadSecretBox(home), home);
    // Counts which validation reads the service makes.
    const counted: Pick<CaptureStore, 'latestValidation'> = {
      latestValidation: (runId) => (reads.push(runId), captures.latestValidation(runId)),
    };
    waivers = createWaiverService({ store, captures: counted, state: async () => null });
    for (const id of ['run_many', 'run_other', 'run_never']) await store.createRun({ id, status: 'failed', stage: 'verify', config: {} });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    dir.remove();
  });

  it('reads no verification of a run never verified, and refuses a waiver there', async () => {
    expect(await captures.latestValidation('run_never')).toBeNull();
    expect(await waivers.findings('run_never')).toEqual({ ok: true, value: { run_id: 'run_never', verified_at: null, passed: null, findings: [] } });
    expect(await waivers.add('run_never', { finding: findingId(changed), reason: 'corrected by hand, ticket OPS-12' }, 'erin')).toEqual({
      ok: false,
      problem: 'refused',
      message: expect.stringMatching(/^run run_never has no stored verification, so there is no finding to waive/),
    });
  });

  it('lists and waives the latest verification\'s findings only, one stored result read per request', async () => {
    await captures.saveValidation('run_many', failing([avg]));
    await captures.saveValidation('run_other', failing([missing]));
    await captures.saveValidation('run_many', failing([avg, missing]));
    await captures.saveValidation('run_many', failing([changed]));
    await captures.saveValidation('run_other', failing([avg]));
    const all = await captures.listValidations('run_many');
    expect(all.map((v) => v.report.checks[0]!.findings.map((f) => f.code))).toEqual([['query_mismatch'], ['query_mismatch', 'row_missing'], ['row_changed']]);
    expect(await captures.latestValidation('run_many')).toEqual(all.at(-1));
    expect((await captures.latestValidation('run_other'))!.report).toEqual(failing([avg]));

    reads.length = 0;
    const listed = await waivers.findings('run_many');
    expect(listed).toEqual({
      ok: true,
      value: {
        run_id: 'run_many',
        verified_at: all.at(-1)!.at,
        passed: false,
        findings: [{ id: findingId(changed), perspective: 'behavioral', check: 'queries and rows', code: 'row_changed', path: ['items', 'id=77'], message: changed.message, table: 'items', waiver: null }],
      },
    });
    expect(reads).toEqual(['run_many']);

    // A finding of an earlier verification only is not there to waive.
    const old = await waivers.add('run_many', { code: 'query_mismatch', path: ['queries', 'avg'], reason: 'rounding differs by design, ticket FIN-2' }, 'erin');
    expect(old).toEqual({ ok: false, problem: 'refused', message: expect.stringMatching(/^the latest verification of run run_many has no query_mismatch finding at \[queries, avg\]/) });
    const byId = await waivers.add('run_many', { finding: findingId(missing), reason: 'deleted on purpose by the owner, ticket OPS-3' }, 'erin');
    expect(byId).toMatchObject({ ok: false, problem: 'refused', message: expect.stringContaining(`has no finding ${findingId(missing)}`) });

    const added = await waivers.add('run_many', { finding: findingId(changed), reason: 'corrected by hand in the target, ticket OPS-12' }, 'erin');
    expect(added).toMatchObject({ ok: true, value: { finding_id: findingId(changed), code: 'row_changed', table: 'items', approved_by: 'erin' } });
    const after = await waivers.findings('run_many');
    expect(after.ok && after.value.findings.map((f) => [f.code, f.waiver?.approved_by])).toEqual([['row_changed', 'erin']]);
    expect((await store.listApprovals('run_many')).map((a) => [a.decision, a.by])).toEqual([['waive', 'erin']]);
  });
});
