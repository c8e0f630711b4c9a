/**
 * The least-privilege Redis ACL an @q process needs (README "Security"): its own keys and pub/sub
 * channels, the read, write, scripting, pub/sub and connection commands, INFO and TIME (store facts),
 * ROLE (Sentinel) and the CLUSTER read commands; nothing dangerous (no FLUSHALL, KEYS, CONFIG, DEBUG,
 * SHUTDOWN, MIGRATE, CLIENT KILL, ACL), and no SCRIPT FLUSH / FUNCTION.
 */
export interface AclOptions {
  user: string;
  password: string;
  /** Key pattern, e.g. `asynq:*` for the default prefix. */
  keys: string;
  /** Channel pattern, e.g. `asynq:*`. */
  channels: string;
}

export const leastPrivilegeCommands = [
  '-@all',
  '+@read',
  '+@write',
  '+@scripting',
  '+@pubsub',
  '+@connection',
  '-@dangerous',
  '-script|flush',
  '-script|kill',
  '-function',
  '+info',
  '+time',
  '+role',
  '+cluster|slots',
  '+cluster|shards',
  '+cluster|info',
  '+cluster|nodes',
] as const;

/** The arguments of `ACL SETUSER` for such a user. */
export function leastPrivilegeAcl(options: AclOptions): string[] {
  return [
    options.user,
    'reset',
    'on',
    `>${options.password}`,
    `~${options.keys}`,
    'resetchannels',
    `&${options.channels}`,
    ...leastPrivilegeCommands,
  ];
}
