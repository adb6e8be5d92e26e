/**
 * The `console` exporter: each batch printed as an indented tree per trace, with durations.
 *
 * Implementation note. A batch is grouped by trace; within a trace, spans are children of
 * their parent when the parent is in the same batch, roots otherwise (a parent that ended
 * in an earlier batch, or a remote one). Siblings are ordered by start time.
 */
import type { SpanData } from '../span.js';
import type { SpanExporter } from './exporter.js';

/** Options of {@link ConsoleExporter}. */
export interface ConsoleExporterOptions {
  /**
   * Where the text goes.
   * @default writes to process.stdout
   */
  readonly write?: (text: string) => void;
}

function formatAttributes(span: SpanData): string {
  const keys = Object.keys(span.attributes);
  if (keys.length === 0) return '';
  return ' ' + keys.map((k) => `${k}=${JSON.stringify(span.attributes[k])}`).join(' ');
}

/**
 * Renders spans as indented trees, one per trace:
 *
 * ```
 * trace 4bf92f3577b34da6a3ce929d0e0e4736
 *   checkout 12.408 ms user.id=7
 *     load cart 3.112 ms
 *     charge 8.950 ms [error: card declined]
 * ```
 *
 * @example
 * ```ts
 * import { formatSpanTree } from 'zokio/trace';
 * console.log(formatSpanTree([]));  // ''
 * ```
 */
export function formatSpanTree(spans: readonly SpanData[]): string {
  const byTrace = new Map<string, SpanData[]>();
  for (const s of spans) {
    const list = byTrace.get(s.traceId);
    if (list === undefined) byTrace.set(s.traceId, [s]);
    else list.push(s);
  }
  const lines: string[] = [];
  for (const [traceId, list] of byTrace) {
    const ids = new Set(list.map((s) => s.spanId));
    const children = new Map<string, SpanData[]>();
    const roots: SpanData[] = [];
    for (const s of list) {
      if (s.parentSpanId !== undefined && ids.has(s.parentSpanId)) {
        const c = children.get(s.parentSpanId);
        if (c === undefined) children.set(s.parentSpanId, [s]);
        else c.push(s);
      } else roots.push(s);
    }
    const byStart = (a: SpanData, b: SpanData): number => a.startTime - b.startTime;
    lines.push(`trace ${traceId}`);
    const walk = (s: SpanData, depth: number): void => {
      const status = s.status.code === 'error' ? ` [error${s.status.message !== undefined ? `: ${s.status.message}` : ''}]` : '';
      const thread = s.threadId !== 0 ? ` (${s.threadName})` : '';
      lines.push(`${'  '.repeat(depth)}${s.name} ${(s.endTime - s.startTime).toFixed(3)} ms${status}${thread}${formatAttributes(s)}`);
      for (const c of (children.get(s.spanId) ?? []).sort(byStart)) walk(c, depth + 1);
    };
    for (const r of roots.sort(byStart)) walk(r, 1);
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/**
 * Prints each batch of spans as an indented tree with durations (see {@link formatSpanTree}).
 * What `.tracing({ exporter: 'console' })` installs.
 *
 * @example
 * ```ts
 * import { ConsoleExporter } from 'zokio/trace';
 * const lines: string[] = [];
 * const exporter = new ConsoleExporter({ write: (text) => void lines.push(text) });
 * ```
 */
export class ConsoleExporter implements SpanExporter {
  readonly #write: (text: string) => void;

  constructor(options: ConsoleExporterOptions = {}) {
    this.#write = options.write ?? ((text) => void process.stdout.write(text));
  }

  export(spans: readonly SpanData[]): void {
    const text = formatSpanTree(spans);
    if (text !== '') this.#write(text);
  }
}
