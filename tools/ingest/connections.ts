// Open the source and target of a configuration: credential references resolved in memory, never kept.
import type { SenseiConfig } from '../../core/config.js';
import type { SourceConnector, TargetConnector } from '../../connectors/connector.js';
import { resolveEndpoint } from '../../connectors/endpoint.js';
import { openSource } from '../../connectors/open-source.js';
import { openTarget } from '../../connectors/open-target.js';

export interface Connections {
  source: SourceConnector;
  target: TargetConnector;
  /** URLs with passwords masked, for messages. */
  sourceLabel: string;
  targetLabel: string;
  close(): Promise<void>;
}

export async function openConnections(config: SenseiConfig, baseDir: string): Promise<Connections> {
  const { schema: _ddl, ...targetEndpoint } = config.target;
  const src = await resolveEndpoint(config.source, { baseDir, role: 'source' });
  const tgt = await resolveEndpoint(targetEndpoint, { baseDir, role: 'target' });
  const source = await openSource(src.url, {
    ...(config.zero_dates ? { zeroDates: config.zero_dates } : {}),
    ...(config.double_encoding ? { doubleEncoding: config.double_encoding } : {}),
  });
  let target: TargetConnector;
  try {
    target = await openTarget(tgt.url);
  } catch (e) {
    await source.close();
    throw e;
  }
  return {
    source,
    target,
    sourceLabel: src.redacted,
    targetLabel: tgt.redacted,
    async close() {
      await Promise.allSettled([source.close(), target.close()]);
    },
  };
}
