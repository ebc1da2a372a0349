// A process's peak resident memory as Linux keeps it (VmHWM in /proc), and its reset, so a bench can give each stage
// its own peak.
import { readFileSync, writeFileSync } from 'node:fs';

/** Peak RSS of `pid` (default this process) in MB since start or the last `resetPeakRss`; 0 where /proc is not there. */
export function peakRssMb(pid: number | 'self' = 'self'): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Start the peak again from the current RSS (clear_refs 5). Without /proc or the right to, the peak stays the whole run's. */
export function resetPeakRss(pid: number | 'self' = 'self'): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // see above
  }
}
