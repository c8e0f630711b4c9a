/**
 * The `enqueue_options` a scheduler entry is published with: Asynq's `Option.String()` forms, e.g.
 * `Queue("low")`, `MaxRetry(3)`, `Timeout(1m0s)`, which Asynq's CLI and web UI display as they are.
 */
import { formatGoDuration } from './go-duration';

/** The options of a scheduled task after validation: durations in milliseconds. */
export interface NormalizedTaskOptions {
  queue?: string;
  maxRetry?: number;
  timeout?: number;
  processIn?: number;
  unique?: number;
  retention?: number;
  group?: string;
  headers?: Record<string, string>;
}

/**
 * Asynq's option strings for `options`, in a fixed order. Headers have no Asynq option (Go carries them
 * on the task itself), so they are not listed.
 */
export function toAsynqOptionStrings(options: NormalizedTaskOptions): string[] {
  const strings: string[] = [];
  if (options.queue !== undefined) strings.push(`Queue(${goQuote(options.queue)})`);
  if (options.maxRetry !== undefined) strings.push(`MaxRetry(${options.maxRetry})`);
  if (options.timeout !== undefined) strings.push(`Timeout(${formatGoDuration(options.timeout)})`);
  if (options.processIn !== undefined) strings.push(`ProcessIn(${formatGoDuration(options.processIn)})`);
  if (options.unique !== undefined) strings.push(`Unique(${formatGoDuration(options.unique)})`);
  if (options.retention !== undefined) strings.push(`Retention(${formatGoDuration(options.retention)})`);
  if (options.group !== undefined) strings.push(`Group(${goQuote(options.group)})`);
  return strings;
}

const shortEscapes: Record<string, string> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

// Go's strconv.Quote keeps printable characters and escapes the rest; \p{C} and \p{Z} other than the
// plain space are what Go's unicode.IsPrint refuses.
const notPrintable = /[\p{C}\p{Z}]/u;

/** Go's `%q`: a double-quoted string with Go escape sequences. */
export function goQuote(text: string): string {
  let quoted = '"';
  for (const character of text) {
    const short = shortEscapes[character];
    if (short !== undefined) {
      quoted += short;
      continue;
    }
    if (character === ' ' || !notPrintable.test(character)) {
      quoted += character;
      continue;
    }
    const codePoint = character.codePointAt(0)!;
    if (codePoint < 0x80) quoted += `\\x${codePoint.toString(16).padStart(2, '0')}`;
    else if (codePoint <= 0xffff) quoted += `\\u${codePoint.toString(16).padStart(4, '0')}`;
    else quoted += `\\U${codePoint.toString(16).padStart(8, '0')}`;
  }
  return `${quoted}"`;
}
