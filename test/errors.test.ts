import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, ConfigError, TimeoutError, ZokioError } from '../src/index.js';
import { errorFromWire, errorToWire } from '../src/errors.js';

describe('ZokioError', () => {
  it('carries a stable code and its class name', () => {
    const err = new TimeoutError('slow');
    expect(err).toBeInstanceOf(ZokioError);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).not.toBeInstanceOf(ChannelClosedError);
    expect(err.code).toBe('ZOKIO_ERR_TIMEOUT');
    expect(err.name).toBe('TimeoutError');
  });

  it('instanceof holds for an error rebuilt after crossing a worker boundary', () => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(errorToWire(new TimeoutError('crossed')));
    const wire = receiveMessageOnPort(port2)!.message;
    port1.close();
    const rebuilt = errorFromWire(wire);
    expect(rebuilt).toBeInstanceOf(ZokioError);
    expect(rebuilt).toBeInstanceOf(TimeoutError);
    expect(rebuilt).not.toBeInstanceOf(ConfigError);
    expect((rebuilt as ZokioError).code).toBe('ZOKIO_ERR_TIMEOUT');
    expect(rebuilt.message).toBe('crossed');
    expect(rebuilt.name).toBe('TimeoutError');
    expect(rebuilt.stack).toContain('crossed');
  });

  it('keeps the code of plain Node errors too', () => {
    const nodeErr = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    const rebuilt = errorFromWire(errorToWire(nodeErr)) as Error & { code?: string };
    expect(rebuilt.code).toBe('ENOENT');
    expect(rebuilt).not.toBeInstanceOf(ZokioError);
  });
});
