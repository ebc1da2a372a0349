// `sensei certificate verify FILE --target URL`: after the file checks, re-hash the target and compare.
import { openTarget } from '../../connectors/open-target.js';
import type { Certificate } from '../../core/certificate.js';
import { CertificateError } from '../../core/errors.js';
import type { Finding } from '../../core/findings.js';
import { checkTargetAgainstCertificate, readRowHashFile, type CertifiedRowHashFile, type TargetCheck } from '../../tools/certification/certificate-target-check.js';

/**
 * Never prints the URL (it may carry a password). Findings name table and key, never a value. A row-hash file that is
 * missing, changed or damaged is a problem: the target is then compared table by table only, without naming rows.
 */
export async function checkCertificateTarget(file: string, cert: Certificate, url: string): Promise<{ check: TargetCheck; problems: string[] }> {
  let rows: CertifiedRowHashFile | null = null;
  const problems: string[] = [];
  try {
    rows = await readRowHashFile(file, cert);
  } catch (e) {
    problems.push(`row-hash file: ${(e as Error).message}`);
  }
  const target = await openTarget(url);
  try {
    let check: TargetCheck;
    try {
      check = await checkTargetAgainstCertificate(cert, target, rows);
    } catch (e) {
      // Only a damaged file gets here (its sha256 was checked): what it could not name, the database can still tell.
      if (!(e instanceof CertificateError) || rows === null) throw e;
      problems.push(`row-hash file: ${e.message}`);
      check = await checkTargetAgainstCertificate(cert, target, null);
    }
    problems.push(...check.findings.map((f: Finding) => f.message));
    return { check, problems };
  } finally {
    await target.close();
  }
}
