import { expectTypeOf, test } from 'vitest';
import { Runtime, createRuntime } from '../../src/index.js';
import { request, events, type ClientResponse, type ClientSseEvent } from '../../src/io/http/index.js';

test('.http() accepts integer literals >= 1 and wide numbers', () => {
  Runtime.builder().http({ connections: 64, pipelining: 1, keepAliveTimeoutMs: 4000, connectTimeoutMs: 10_000 });
  Runtime.builder().http({ connections: 1 }).http({});
  const n: number = Number(process.env.CONNECTIONS ?? 8);
  Runtime.builder().http({ connections: n, pipelining: n });
  createRuntime({ http: { connections: 16, keepAliveTimeoutMs: 500 } });
});

test('.http() rejects invalid literals at compile time with the rule text', () => {
  // @ts-expect-error http fields must be integers >= 1
  Runtime.builder().http({ connections: 0 });
  // @ts-expect-error http fields must be integers >= 1
  Runtime.builder().http({ pipelining: 1.5 });
  // @ts-expect-error http fields must be integers >= 1
  Runtime.builder().http({ keepAliveTimeoutMs: -1 });
  // @ts-expect-error http fields must be integers >= 1
  Runtime.builder().http({ connectTimeoutMs: 0 });
  // @ts-expect-error http fields must be integers >= 1
  createRuntime({ http: { connections: 0 } });
});

test('request() and events() are typed', () => {
  expectTypeOf(request).returns.toEqualTypeOf<Promise<ClientResponse>>();
  expectTypeOf<ReturnType<ClientResponse['json']>>().toEqualTypeOf<Promise<unknown>>();
  expectTypeOf(events).returns.toMatchTypeOf<AsyncIterable<ClientSseEvent>>();
});
