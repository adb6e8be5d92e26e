import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { main } from '../../examples/startup-graph.js';

describe('examples/startup-graph.ts', () => {
  it('starts services in dependency order with timeouts and fallbacks, on virtual time', async () => {
    const rt = Runtime.builder().build();
    const clock = new VirtualClock();
    clock.install(rt);
    const lines: string[] = [];
    const states = await main((line) => lines.push(line), rt);
    expect(states).toEqual({ config: 'up', database: 'up', cache: 'no cache (direct reads)', search: 'up', http: 'up' });
    const order = (needle: string): number => lines.findIndex((l) => l.includes(needle));
    // dependencies first
    expect(order('config is up')).toBeLessThan(order('starting database'));
    expect(order('database is up')).toBeLessThan(order('starting search'));
    expect(order('cache timed out')).toBeLessThan(order('starting http'));
    // on the virtual clock the timestamps are exact: cache gives up at config (10) + 60 ms
    expect(lines.find((l) => l.includes('cache timed out'))).toMatch(/^\s+70 ms/);
    expect(lines.indexOf('serving requests while the warm-up runs')).toBeLessThan(lines.indexOf('background: cache warm-up finished'));
  });
});
