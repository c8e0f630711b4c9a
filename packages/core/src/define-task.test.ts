import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask, validatePayload } from './define-task';
import { ValidationError } from './errors';

describe('defineTask', () => {
  const sendEmail = defineTask(
    'email:send',
    z.object({ to: z.email(), retries: z.number().int().default(0) }),
  );

  it('validates and transforms through the Standard Schema', async () => {
    await expect(validatePayload(sendEmail, { to: 'a@example.com' })).resolves.toEqual({
      to: 'a@example.com',
      retries: 0,
    });
  });

  it('lists every issue with its path', async () => {
    const error = await validatePayload(sendEmail, { to: 'nope', retries: 1.5 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
      'payload.to',
      'payload.retries',
    ]);
    expect((error as ValidationError).message).toMatch(/email:send/);
  });

  it('rejects a blank type and a non-schema', () => {
    expect(() => defineTask(' ', z.string())).toThrow(ValidationError);
    expect(() => defineTask('x', {} as never)).toThrow(/not a Standard Schema/);
  });
});
