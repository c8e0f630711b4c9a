import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ValidationError } from './errors';
import type { TaskOptions } from './task-options';
import { assertTaskType } from './validation';

/**
 * A task type bound to a payload schema (zod, valibot, arktype: any Standard Schema). Producers are
 * type-checked and validated against `Input`; handlers receive the validated `Output`.
 */
export interface TaskDefinition<Input = unknown, Output = Input> {
  readonly type: string;
  readonly schema: StandardSchemaV1<Input, Output> | undefined;
  /** Options applied to every enqueue of this task, overridden by the enqueue's own. */
  readonly defaults: TaskOptions | undefined;
}

export function defineTask<Schema extends StandardSchemaV1>(
  type: string,
  schema: Schema,
  defaults?: TaskOptions,
): TaskDefinition<StandardSchemaV1.InferInput<Schema>, StandardSchemaV1.InferOutput<Schema>>;
export function defineTask<Payload = unknown>(type: string): TaskDefinition<Payload, Payload>;
export function defineTask(type: string, schema?: StandardSchemaV1, defaults?: TaskOptions): TaskDefinition {
  assertTaskType(type);
  if (schema !== undefined && (typeof schema !== 'object' || schema === null || !('~standard' in schema))) {
    throw new ValidationError(
      `defineTask('${type}', schema): schema is not a Standard Schema; pass a zod, valibot or arktype schema.`,
      [{ path: 'schema', message: 'not a Standard Schema' }],
    );
  }
  return Object.freeze({ type, schema, defaults });
}

export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as TaskDefinition).type === 'string' &&
    'schema' in value
  );
}

const formatPath = (path: StandardSchemaV1.Issue['path']): string =>
  (path ?? [])
    .map((segment) => (typeof segment === 'object' ? String(segment.key) : String(segment)))
    .join('.');

/** Validates `value` against the definition's schema; throws a `ValidationError` listing every issue. */
export async function validatePayload<Input, Output>(
  definition: TaskDefinition<Input, Output>,
  value: unknown,
): Promise<Output> {
  if (!definition.schema) return value as Output;
  const result = await definition.schema['~standard'].validate(value);
  if (result.issues) {
    const issues = result.issues.map((issue) => {
      const path = formatPath(issue.path);
      return { path: path ? `payload.${path}` : 'payload', message: issue.message };
    });
    throw new ValidationError(
      `Payload for task "${definition.type}" is invalid: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}.`,
      issues,
    );
  }
  return result.value;
}
