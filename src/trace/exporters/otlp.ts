/**
 * The `otlp` exporter: OTLP/HTTP JSON (`ExportTraceServiceRequest`) for OpenTelemetry
 * collectors, Jaeger, Tempo, Honeycomb and the like.
 *
 * Implementation note. The body follows the OTLP JSON encoding: ids as lowercase hex,
 * 64-bit integers (`*UnixNano`, `intValue`) as decimal strings, enums (`kind`,
 * `status.code`) as numbers. Attribute values map as the protobuf JSON mapping wants:
 * an integer within int64 is an `intValue`; any other number a `doubleValue`, with NaN
 * and the infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (never `null`,
 * never an `intValue` out of int64 range); a bigint within int64 an `intValue`, else a
 * `stringValue`. Arrays must be homogeneous (OpenTelemetry's rule): numbers mixing
 * integers and fractions are all `doubleValue`s; an array mixing strings, numbers and
 * booleans has every element stringified (`stringValue`); a `null`/`undefined` element is
 * an empty `AnyValue`. An attribute whose value is `null` or `undefined` is left out; any
 * other value (an object) is sent as its `String()`. With `path`, each request body is
 * also appended to a file as one JSON line (the OpenTelemetry collector's file format). Epoch milliseconds with a fraction become nanoseconds through
 * BigInt so that no digit is lost above 2^53. The POST uses `node:http` without keep-alive
 * (`agent: false`): an exporter never holds a socket that keeps the process alive.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Attributes, SpanData, SpanKind, SpanStatusCode } from '../span.js';
import type { SpanExporter } from './exporter.js';
import { FileSink } from './file-sink.js';

/** An OTLP `AnyValue`. */
export type OtlpAnyValue =
  | {
      /** A string attribute. */
      readonly stringValue: string;
    }
  | {
      /** A boolean attribute. */
      readonly boolValue: boolean;
    }
  | {
      /** An integer attribute, as a decimal string (OTLP JSON encodes int64 as strings). */
      readonly intValue: string;
    }
  | {
      /** A non-integer number attribute; NaN and the infinities as `"NaN"`, `"Infinity"`, `"-Infinity"`. */
      readonly doubleValue: number | 'NaN' | 'Infinity' | '-Infinity';
    }
  | {
      /** An empty value: a `null` element of an array. */
      readonly stringValue?: never;
    }
  | {
      /** An array attribute. */
      readonly arrayValue: {
        /** The elements, each encoded as its own `AnyValue`. */
        readonly values: readonly OtlpAnyValue[];
      };
    };

/** An OTLP `KeyValue`. */
export interface OtlpKeyValue {
  /** The attribute name, e.g. `service.name`. */
  readonly key: string;
  /** The attribute value. */
  readonly value: OtlpAnyValue;
}

/** An OTLP span in the JSON encoding. */
export interface OtlpSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  /** The span's name. */
  readonly name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** Start time in nanoseconds since the Unix epoch, as a decimal string. */
  readonly startTimeUnixNano: string;
  /** End time in nanoseconds since the Unix epoch, as a decimal string. */
  readonly endTimeUnixNano: string;
  /** The span's attributes, plus `thread.id` and `thread.name`. */
  readonly attributes: readonly OtlpKeyValue[];
  /** The span's events, in order. */
  readonly events: readonly {
    /** When the event happened, in nanoseconds since the Unix epoch, as a decimal string. */
    readonly timeUnixNano: string;
    /** The event's name. */
    readonly name: string;
    /** The event's attributes (empty when it had none). */
    readonly attributes: readonly OtlpKeyValue[];
  }[];
  /** The span's status. */
  readonly status: {
    /** 0 unset, 1 ok, 2 error. */
    readonly code: number;
    /** The status message, when the span had one. */
    readonly message?: string;
  };
}

/** An OTLP `ExportTraceServiceRequest` in the JSON encoding. */
export interface OtlpTraceBody {
  /** One entry per resource (Zokio sends one: this process). */
  readonly resourceSpans: readonly {
    /** The process that produced the spans. */
    readonly resource: {
      /** `service.name`, `process.pid` and the `resource` option's attributes. */
      readonly attributes: readonly OtlpKeyValue[];
    };
    /** One entry per instrumentation scope (Zokio sends one: `zokio`). */
    readonly scopeSpans: readonly {
      /** The instrumentation library that recorded the spans. */
      readonly scope: {
        /** Its name: `zokio`. */
        readonly name: string;
        /** Its version, when known. */
        readonly version?: string;
      };
      /** The spans of this batch. */
      readonly spans: readonly OtlpSpan[];
    }[];
  }[];
}

/** Options of {@link toOtlpBody} and {@link OtlpExporter}. */
export interface OtlpOptions {
  /**
   * `service.name` of the resource.
   * @default 'zokio'
   */
  readonly serviceName?: string;
  /** More resource attributes (`deployment.environment`, `service.version`, ...). */
  readonly resource?: Attributes;
}

const KINDS: Record<SpanKind, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const STATUS: Record<SpanStatusCode, number> = { unset: 0, ok: 1, error: 2 };

const INT64_MIN = -(2 ** 63);
const INT64_LIMIT = 2 ** 63; // exclusive

function numberValue(value: number, asDouble: boolean): OtlpAnyValue {
  if (!asDouble && Number.isInteger(value) && value >= INT64_MIN && value < INT64_LIMIT) return { intValue: BigInt(value).toString() };
  if (Number.isNaN(value)) return { doubleValue: 'NaN' };
  if (value === Infinity) return { doubleValue: 'Infinity' };
  if (value === -Infinity) return { doubleValue: '-Infinity' };
  return { doubleValue: value };
}

function scalarValue(value: unknown, asDouble: boolean): OtlpAnyValue {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return numberValue(value, asDouble);
    case 'bigint':
      return value >= BigInt(INT64_MIN) && value < BigInt(INT64_LIMIT) ? { intValue: value.toString() } : { stringValue: value.toString() };
    default:
      return value === null || value === undefined ? {} : { stringValue: String(value) };
  }
}

/**
 * One attribute value as an OTLP `AnyValue` (see the module note for the mapping);
 * `undefined` for a `null`/`undefined` value, which is left out.
 */
export function otlpAnyValue(value: unknown): OtlpAnyValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Array.isArray(value)) return scalarValue(value, false);
  let kind: string | undefined;
  let mixed = false;
  let fraction = false;
  for (const x of value as unknown[]) {
    if (x === null || x === undefined) continue;
    const t = typeof x === 'bigint' ? 'number' : typeof x;
    if (t === 'number' && typeof x === 'number' && !(Number.isInteger(x) && x >= INT64_MIN && x < INT64_LIMIT)) fraction = true;
    if (kind === undefined) kind = t;
    else if (kind !== t) mixed = true;
  }
  const values = (value as unknown[]).map((x): OtlpAnyValue => {
    if (x === null || x === undefined) return {};
    if (mixed) return { stringValue: typeof x === 'string' ? x : String(x) };
    return typeof x === 'bigint' && fraction ? numberValue(Number(x), true) : scalarValue(x, fraction);
  });
  return { arrayValue: { values } };
}

function keyValues(attributes: Attributes | undefined): OtlpKeyValue[] {
  if (attributes === undefined) return [];
  const out: OtlpKeyValue[] = [];
  for (const key of Object.keys(attributes)) {
    const value = otlpAnyValue(attributes[key]);
    if (value !== undefined) out.push({ key, value });
  }
  return out;
}

/**
 * Epoch milliseconds (with a fraction) as a decimal string of nanoseconds.
 *
 * @example
 * ```ts
 * import { msToUnixNano } from 'zokio/trace';
 * msToUnixNano(1700000000000.5); // '1700000000000500000'
 * ```
 */
export function msToUnixNano(ms: number): string {
  const whole = Math.floor(ms);
  return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))).toString();
}

/** One span in the OTLP JSON encoding. */
export function spanToOtlp(span: SpanData): OtlpSpan {
  const status = span.status.message !== undefined ? { code: STATUS[span.status.code], message: span.status.message } : { code: STATUS[span.status.code] };
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? '',
    name: span.name,
    kind: KINDS[span.kind],
    startTimeUnixNano: msToUnixNano(span.startTime),
    endTimeUnixNano: msToUnixNano(span.endTime),
    attributes: keyValues({ ...span.attributes, 'thread.id': span.threadId, 'thread.name': span.threadName }),
    events: span.events.map((e) => ({ timeUnixNano: msToUnixNano(e.time), name: e.name, attributes: keyValues(e.attributes) })),
    status,
  };
}

/**
 * The OTLP/HTTP JSON body for a batch of spans: resourceSpans → scopeSpans → spans.
 *
 * Use it to send spans with your own HTTP client, or to inspect what the exporter sends.
 *
 * @example
 * ```ts
 * import { toOtlpBody } from 'zokio/trace';
 * const body = toOtlpBody([], { serviceName: 'checkout' });
 * console.log(body.resourceSpans[0]!.scopeSpans[0]!.scope.name); // 'zokio'
 * ```
 */
export function toOtlpBody(spans: readonly SpanData[], options: OtlpOptions = {}): OtlpTraceBody {
  return {
    resourceSpans: [
      {
        resource: { attributes: keyValues({ 'service.name': options.serviceName ?? 'zokio', 'process.pid': process.pid, ...options.resource }) },
        scopeSpans: [{ scope: { name: 'zokio', version: '0.1.0' }, spans: spans.map(spanToOtlp) }],
      },
    ],
  };
}

/** Options of {@link OtlpExporter}. */
export interface OtlpExporterOptions extends OtlpOptions {
  /**
   * Collector endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. Absent: bodies go to
   * `onBody` and `path` only.
   */
  readonly url?: string;
  /**
   * A file each body is appended to, one JSON line per batch (truncated when the first
   * batch is written); with `url` too, bodies go to both.
   */
  readonly path?: string;
  /** Extra request headers (authentication). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Gives up on a POST after this many ms.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /** Called with every body before it is sent. */
  readonly onBody?: (body: OtlpTraceBody) => void;
}

/** Thrown (and counted in `exportErrors`) when the collector answers outside 2xx. */
export class OtlpExportError extends Error {
  /** HTTP status of the collector's answer, or 0 when there was none. */
  readonly status: number;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OtlpExportError';
    this.status = status;
  }
}

/**
 * Sends each batch as an OTLP/HTTP JSON POST and/or appends it to a file; what
 * `.tracing({ exporter: 'otlp', path })` installs (a `http:`/`https:` path is the
 * collector URL, any other a file).
 *
 * @example
 * ```ts
 * import { OtlpExporter } from 'zokio/trace';
 * const exporter = new OtlpExporter({ url: 'http://127.0.0.1:4318/v1/traces', serviceName: 'checkout' });
 * ```
 *
 * *Cancellation*: a POST that takes longer than `timeoutMs` is destroyed and the batch
 * counts as an export error.
 */
export class OtlpExporter implements SpanExporter {
  readonly #options: OtlpExporterOptions;
  readonly #file: FileSink | undefined;

  constructor(options: OtlpExporterOptions = {}) {
    if (options.url !== undefined) {
      const protocol = new URL(options.url).protocol;
      if (protocol !== 'http:' && protocol !== 'https:') throw new TypeError(`otlp url must be http or https, got ${protocol}`);
    }
    this.#options = options;
    this.#file = options.path !== undefined ? new FileSink(options.path) : undefined;
  }

  async export(spans: readonly SpanData[]): Promise<void> {
    const body = toOtlpBody(spans, this.#options);
    this.#options.onBody?.(body);
    if (this.#file === undefined && this.#options.url === undefined) return;
    const json = JSON.stringify(body);
    this.#file?.write(`${json}\n`);
    if (this.#options.url !== undefined) await this.#post(this.#options.url, json);
  }

  /** Closes the file, if any. */
  shutdown(): void {
    this.#file?.close();
  }

  #post(url: string, payload: string): Promise<void> {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent: false,
          timeout: this.#options.timeoutMs ?? 10_000,
          headers: { ...this.#options.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new OtlpExportError(`otlp collector answered ${status}`, status));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new OtlpExportError('otlp collector did not answer in time', 0)));
      req.on('error', (err) => reject(err instanceof OtlpExportError ? err : new OtlpExportError(`otlp POST failed: ${err.message}`, 0, { cause: err })));
      req.end(payload);
    });
  }
}
