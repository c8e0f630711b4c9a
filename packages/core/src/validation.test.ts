import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { assertQueueName, queueNameRule } from './validation';

const refusal = (queue: unknown): ValidationError => {
  try {
    assertQueueName(queue, 'options.queue');
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(queue)} was accepted`);
};

describe('assertQueueName', () => {
  it('states the rule it enforces', () => {
    expect(queueNameRule).toBe(
      "a queue name is 1 to 256 characters, does not begin or end with whitespace, and contains no '{', '}' or control character (inner spaces and any other characters are allowed)",
    );
  });

  it.each([
    ['a plain name', 'critical'],
    ['an inner space, as Go Asynq accepts', 'bad queue'],
    ['punctuation', 'mail:out.v2-eu_1/#'],
    ['letters beyond ASCII', 'ünïcödé-キュー'],
    ['a single character', 'q'],
    ['256 characters', 'q'.repeat(256)],
  ])('accepts %s and returns the name unchanged', (_name, queue) => {
    expect(assertQueueName(queue)).toBe(queue);
  });

  it.each([
    ['an empty name', '', 'is blank', 'blank queue name'],
    ['a blank name', '   ', 'is blank', 'blank queue name'],
    ['a leading space', ' default', 'begins or ends with whitespace', 'surrounding whitespace'],
    ['a trailing newline', 'default\n', 'begins or ends with whitespace', 'surrounding whitespace'],
    ['an opening brace', 'a{b', "contains '{'", 'forbidden character'],
    ['a closing brace', 'a}b', "contains '}'", 'forbidden character'],
    ['an inner tab', 'a\tb', 'contains a control character', 'forbidden character'],
    ['a C1 control character', 'a\u0085b', 'contains a control character', 'forbidden character'],
    ['257 characters', 'q'.repeat(257), 'is 257 characters long', 'too long'],
    ['a number', 42, 'is not a string', 'not a string'],
    ['undefined', undefined, 'is not a string', 'not a string'],
  ])('refuses %s, saying what is wrong and stating the rule', (_name, queue, detail, issue) => {
    const error = refusal(queue);
    expect(error.message).toContain(`options.queue `);
    expect(error.message).toContain(`${detail}: ${queueNameRule}.`);
    expect(error.issues).toEqual([{ path: 'options.queue', message: issue }]);
  });
});
