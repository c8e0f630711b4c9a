import { expect } from 'vitest';

/** `expect.stringMatching` typed as the string it stands for, for use inside object matchers. */
export const textMatching = (pattern: RegExp): string => expect.stringMatching(pattern) as string;
