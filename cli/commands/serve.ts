// `sensei serve [--port N]`: the REST API, the WebSocket chat with AMANI and the web console on one port.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.js';
import { createChatModel, describeLlm, llmSettingsFromEnv } from '../../tools/llm/chat-model.js';
import { createSenseiServer } from '../../server/app.js';

export async function cmdServe(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (e) {
    throw new ConfigError((e as Error).message, { hint: 'see sensei serve --help' });
  }
  const port = values.port === undefined ? 7860 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number, not "${values.port}"`, { hint: 'see sensei serve --help' });
  const llm = llmSettingsFromEnv();
  const server = await createSenseiServer({
    home: resolve(process.env.SENSEI_HOME ?? '.sensei'),
    ...(process.env.SENSEI_STORE_URL ? { storeUrl: process.env.SENSEI_STORE_URL } : {}),
    ...(llm ? { chatModel: createChatModel(llm) } : {}),
  });
  const listening = await server.listen(port, values.host ?? '127.0.0.1');
  const url = `http://${values.host ?? '127.0.0.1'}:${listening.port}`;
  process.stdout.write(values.json ? `${JSON.stringify({ listening: listening.port, url })}\n` : `Sensei listening on ${url} (console at /, API at /openapi.json); AMANI: ${describeLlm(llm)}\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await listening.close();
  await server.close();
  return 0;
}
