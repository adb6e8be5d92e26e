import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/runtime/runtime.js';
import { UnixListener, UnixStream } from '../../src/io/net/index.js';
const dir = mkdtempSync(join(tmpdir(), 'echo-'));
const r = createRuntime({ io: 'node' });
const N = Number(process.argv[2] ?? 200000);
await r.run(async () => {
  const path = join(dir, 's.sock');
  const listener = await UnixListener.bind({ path });
  const server = r.spawn(async () => {
    const conn = await listener.accept();
    for await (const chunk of conn) await conn.write(chunk);
    await conn.close();
  });
  const client = await UnixStream.connect({ path });
  const message = Buffer.alloc(64, 7);
  const exchange = async (n: number) => { for (let i = 0; i < n; i++) { await client.write(message); await client.readExact(64); } };
  await exchange(5000);
  const t = performance.now();
  await exchange(N);
  console.log('zokio', Math.round(N / ((performance.now() - t) / 1000)));
  await client.close(); await server; await listener.close();
});
await r.shutdown();
