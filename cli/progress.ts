// Progress on stderr: a live bar per table with rate and ETA on a terminal, a plain line every few seconds otherwise;
// a line for each retry after a lost connection.
import type { RetryNotice, TableProgress } from '../core/run.js';

export interface ProgressRenderer {
  update(p: TableProgress): void;
  stage(runId: string, stage: string): void;
  retry(n: RetryNotice): void;
}

export function createProgressRenderer(stream: NodeJS.WriteStream = process.stderr, options: { quiet?: boolean } = {}): ProgressRenderer {
  const isTty = Boolean(stream.isTTY);
  const started = new Map<string, number>();
  const lastLine = new Map<string, number>();
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const line = (p: TableProgress): string => {
    const t0 = started.get(p.table) ?? Date.now();
    const secs = Math.max((Date.now() - t0) / 1000, 0.001);
    const rate = p.rowsRead / secs;
    const total = Math.max(p.rowsTotal, p.rowsRead);
    const ratio = total === 0 ? 1 : p.rowsRead / total;
    const eta = rate > 0 && !p.done ? `${Math.ceil((total - p.rowsRead) / rate)}s` : '0s';
    const width = 24;
    const filled = Math.round(ratio * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    return `${p.table.padEnd(20).slice(0, 20)} ${bar} ${fmt(p.rowsRead)}/${fmt(total)} rows  ${fmt(Math.round(rate))} rows/s  ETA ${eta}  written ${fmt(p.rowsWritten)}  queued ${fmt(p.rowsErrored)}`;
  };
  return {
    update(p) {
      if (options.quiet) return;
      if (!started.has(p.table)) started.set(p.table, Date.now());
      if (isTty) {
        stream.write(`\r\x1b[2K${line(p)}${p.done ? '\n' : ''}`);
        return;
      }
      const now = Date.now();
      if (p.done || now - (lastLine.get(p.table) ?? 0) >= 2000) {
        lastLine.set(p.table, now);
        stream.write(`${line(p)}\n`);
      }
    },
    stage(runId, stage) {
      if (!options.quiet) stream.write(`[${runId}] ${stage}\n`);
    },
    retry(n) {
      if (options.quiet) return;
      // On a terminal the table's bar is cleared first; its next update draws it again below.
      stream.write(`${isTty ? '\r\x1b[2K' : ''}${n.table}: ${n.reason}; retry ${n.attempt} of ${n.of} in ${(n.inMs / 1000).toFixed(1)} s\n`);
    },
  };
}
