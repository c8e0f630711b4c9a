/** How the q command prints: tables for people, JSON for scripts. */
import Table from 'cli-table3';

export interface TextSink {
  write(text: string): unknown;
}

export interface Output {
  stdout: TextSink;
  stderr: TextSink;
  /** Whether to use bold and colour (a terminal, and NO_COLOR unset). */
  color: boolean;
}

const plainTableCharacters = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** A table in Asynq's style: a header, a line of dashes, then the rows; columns two spaces apart. */
export type Cell = string | number | boolean | null | undefined;

export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const table = new Table({
    head: [...headers],
    chars: plainTableCharacters,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    wordWrap: false,
  });
  table.push(headers.map((header) => '-'.repeat(header.length)));
  for (const row of rows)
    table.push(row.map((cell) => (cell === undefined || cell === null ? '' : String(cell))));
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

export function printTable(
  output: Output,
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
): void {
  output.stdout.write(formatTable(headers, rows));
}

export function printJson(output: Output, value: unknown): void {
  output.stdout.write(`${JSON.stringify(toJsonValue(value), null, 2)}\n`);
}

export function bold(output: Output, text: string): string {
  return output.color ? `\x1b[1m${text}\x1b[22m` : text;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Makes a value JSON-ready: dates become ISO strings, and bytes `field` become two fields, `field` (the
 * text, or null when the bytes are not UTF-8) and `fieldBase64` (always exact).
 */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return decodeText(value) ?? null;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (field === undefined) continue;
      if (field instanceof Uint8Array) {
        result[key] = decodeText(field) ?? null;
        result[`${key}Base64`] = Buffer.from(field).toString('base64');
      } else {
        result[key] = toJsonValue(field);
      }
    }
    return result;
  }
  return value;
}

function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return textDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Bytes for a table cell, as Asynq shows them: the text when printable, else "non-printable bytes". */
export function printableBytes(bytes: Uint8Array | undefined, maxLength = 60): string {
  if (!bytes || bytes.length === 0) return '';
  const text = decodeText(bytes);
  // eslint-disable-next-line no-control-regex
  if (text === undefined || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) || text.trim() === '') {
    return 'non-printable bytes';
  }
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > maxLength ? `${oneLine.slice(0, maxLength - 1)}…` : oneLine;
}
