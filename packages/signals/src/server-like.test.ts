import { describe, expectTypeOf, it } from 'vitest';
import type {
  Handler,
  HandlerFunction,
  RunningTask,
  Server,
  ServerLifecycleState,
  ServerStateChange,
} from '@q/server';
import type { ServerLike, ServerLikeState, ServerLikeStateChange, ServerLikeTask } from './server-like';

describe('ServerLike', () => {
  it('is satisfied by Server from @q/server, so run() takes one as it is', () => {
    expectTypeOf<Server>().toExtend<ServerLike<Handler | HandlerFunction>>();
  });

  it('reads the states, state changes and running tasks that @q/server defines', () => {
    expectTypeOf<ServerLikeState>().toEqualTypeOf<ServerLifecycleState>();
    expectTypeOf<ServerStateChange>().toEqualTypeOf<ServerLikeStateChange>();
    expectTypeOf<RunningTask>().toExtend<ServerLikeTask>();
  });
});
