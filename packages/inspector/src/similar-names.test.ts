import { describe, expect, it } from 'vitest';
import { editDistance, similarNames } from './similar-names';

describe('similarNames', () => {
  it('finds likely typos but not merely short neighbours', () => {
    expect(similarNames('email', ['emails', 'critical', 'default'])).toEqual(['emails']);
    expect(similarNames('Critical', ['critical'])).toEqual(['critical']);
    expect(similarNames('high_priority', ['high-priority', 'hihg-priority'])).toEqual([
      'high-priority',
      'hihg-priority',
    ]);
    expect(similarNames('low', ['slow', 'lo'])).toEqual([]);
    expect(similarNames('emial', ['email', 'emails'])).toEqual(['email']);
    expect(similarNames('same', ['same'])).toEqual([]);
  });

  it('counts edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('emial', 'email')).toBe(1);
  });
});
