import { type TaskDefinition, ValidationError } from '@q/core';
import { isTaskDefinition, validatePayload } from '@q/core/internal';
import type { Handler, HandlerFunction, Middleware, Task, TaskContext } from './handler';
import { SkipRetry } from './skip-retry';

type Route = { pattern: string; handler: HandlerFunction };

const asFunction = (handler: HandlerFunction | Handler): HandlerFunction =>
  typeof handler === 'function' ? handler : (task, context) => handler.processTask(task, context);

/** The error a task fails with when no handler matches its type; it is retried like any failure. */
export class HandlerNotFoundError extends Error {
  constructor(readonly taskType: string) {
    super(
      `no handler for task type "${taskType}": register one with mux.handle("${taskType}", handler) or with a prefix of the type`,
    );
    this.name = 'HandlerNotFoundError';
  }
}

/**
 * Routes a task to the handler registered for its type: an exact match first, then the longest
 * registered prefix (`'email:'` handles `'email:send'`), as Go Asynq's `ServeMux` does. Middleware
 * registered with `use` wraps every handler, the first registered outermost.
 */
export class ServeMux implements Handler {
  private readonly routes = new Map<string, Route>();
  private readonly middlewares: Middleware[] = [];
  private notFoundHandler: HandlerFunction = (task) => {
    throw new HandlerNotFoundError(task.type);
  };

  /**
   * Registers `handler` for `pattern` (a task type or a prefix of types), or for a task definition, in
   * which case the handler receives the payload validated by the definition's schema. A payload that
   * fails validation archives the task at once (retrying cannot fix it).
   */
  handle<Input, Output>(definition: TaskDefinition<Input, Output>, handler: HandlerFunction<Output>): this;
  handle(pattern: string, handler: HandlerFunction | Handler): this;
  handle(patternOrDefinition: string | TaskDefinition, handler: HandlerFunction | Handler): this {
    if (typeof handler !== 'function' && typeof handler?.processTask !== 'function') {
      throw new ValidationError(
        'mux.handle(pattern, handler): handler must be a function or an object with processTask(task, context).',
        [{ path: 'handler', message: 'not a handler' }],
      );
    }
    if (isTaskDefinition(patternOrDefinition)) {
      const definition = patternOrDefinition;
      const typed = asFunction(handler);
      return this.register(definition.type, async (task, context) => {
        let payload: unknown;
        try {
          payload = await validatePayload(definition, task.payload);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new SkipRetry(message, { cause: error });
        }
        return typed({ ...task, payload }, context);
      });
    }
    return this.register(patternOrDefinition, asFunction(handler));
  }

  /** Adds middleware around every handler, including the not-found handler. */
  use(...middlewares: Middleware[]): this {
    for (const middleware of middlewares) {
      if (typeof middleware !== 'function') {
        throw new ValidationError(
          'mux.use(middleware): middleware must be a function (task, context, next).',
          [{ path: 'middleware', message: 'not a function' }],
        );
      }
      this.middlewares.push(middleware);
    }
    return this;
  }

  /** Replaces the handler for tasks whose type matches no pattern (by default: fail with a clear error). */
  notFound(handler: HandlerFunction | Handler): this {
    this.notFoundHandler = asFunction(handler);
    return this;
  }

  /** The handler a task of `type` goes to (without middleware); the not-found handler when none matches. */
  handlerFor(type: string): HandlerFunction {
    const exact = this.routes.get(type);
    if (exact) return exact.handler;
    let best: Route | undefined;
    for (const route of this.routes.values()) {
      if (type.startsWith(route.pattern) && (!best || route.pattern.length > best.pattern.length)) {
        best = route;
      }
    }
    return best?.handler ?? this.notFoundHandler;
  }

  async processTask(task: Task, context: TaskContext): Promise<void> {
    const handler = this.handlerFor(task.type);
    const run = async (index: number): Promise<void> => {
      const middleware = this.middlewares[index];
      if (!middleware) {
        await handler(task, context);
        return;
      }
      let called = false;
      await middleware(task, context, () => {
        if (called) return Promise.reject(new Error('a middleware called next() more than once'));
        called = true;
        return run(index + 1);
      });
    };
    await run(0);
  }

  private register(pattern: string, handler: HandlerFunction): this {
    if (typeof pattern !== 'string' || pattern.trim() === '') {
      throw new ValidationError(
        `mux.handle(pattern, handler): pattern must be a task type or type prefix such as 'email:', got ${JSON.stringify(pattern)}.`,
        [{ path: 'pattern', message: 'blank pattern' }],
      );
    }
    if (this.routes.has(pattern)) {
      throw new ValidationError(
        `mux.handle: a handler for "${pattern}" is already registered; register each pattern once.`,
        [{ path: 'pattern', message: 'duplicate pattern' }],
      );
    }
    this.routes.set(pattern, { pattern, handler });
    return this;
  }
}
