import { describe, expect, it } from 'vitest';
import { QueueRegistry } from './queue-registry';

describe('QueueRegistry', () => {
  it('asks for a queue once per refresh interval, and again after forget', () => {
    const registry = new QueueRegistry(1000);
    expect(registry.due(['a', 'b'], 0)).toEqual(['a', 'b']);
    registry.registered(['a', 'b'], 0);
    expect(registry.due(['a', 'b', 'c'], 999)).toEqual(['c']);
    expect(registry.due(['a'], 1000)).toEqual(['a']);
    registry.forget('b');
    expect(registry.due(['b'], 1)).toEqual(['b']);
  });
});
