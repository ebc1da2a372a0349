// `sensei certificate verify FILE --target URL`: after the file checks, re-hash the target and compare.
import { openTarget } from '../../connectors/open-target.js';
import type { Certificate } from '../../core/certificate.js';
import type { Finding } from '../../core/findings.js';
import { checkTargetAgainstCertificate, readRowHashFile, type TargetCheck } from '../../tools/certification/certificate-target-check.js';

/** Never prints the URL (it may carry a password). Findings name table and key, never a value. */
export async function checkCertificateTarget(file: string, cert: Certificate, url: string): Promise<{ check: TargetCheck; problems: string[] }> {
  let rows = null;
  const problems: string[] = [];
  try {
    rows = await readRowHashFile(file, cert);
  } catch (e) {
    problems.push(`row-hash file: ${(e as Error).message}`);
  }
  const target = await openTarget(url);
  try {
    const check = await checkTargetAgainstCertificate(cert, target, rows);
    problems.push(...check.findings.map((f: Finding) => f.message));
    return { check, problems };
  } finally {
    await target.close();
  }
}
