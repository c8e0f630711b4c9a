import { describe, expectTypeOf, it } from 'vitest';
import { type Server, type Handler, type HandlerFunction } from '@q/server';
import type { ServerLike } from './server-like';

describe('ServerLike', () => {
  it('is satisfied by Server from @q/server, so run() takes one as it is', () => {
    expectTypeOf<Server>().toExtend<ServerLike<Handler | HandlerFunction>>();
  });
});
