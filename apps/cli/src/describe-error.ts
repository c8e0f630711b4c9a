/** Turns anything a command threw into one message for people and an exit code. */
import { QError } from '@q/core';
import { CommanderError } from 'commander';
import { scrubSecrets } from './connection-options';
import { CliError, exitCodes } from './exit-codes';

export interface DescribedError {
  message: string;
  exitCode: number;
}

interface ErrorContext {
  secrets: readonly string[];
  /** Where the command tried to connect, password hidden; absent when the flags were unusable. */
  displayUrl?: string;
}

const unreachablePattern =
  /\b(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET)\b|Connection is closed|connect timed out|Command timed out|max retries per request|None of startup nodes is available|Stream isn't writeable|enableOfflineQueue/;
const credentialsPattern = /\b(?:NOAUTH|WRONGPASS|NOPERM)\b|invalid username-password|invalid password/;

export function describeError(
  error: unknown,
  context: { secrets: readonly string[]; connection?: unknown },
): DescribedError {
  const errorContext: ErrorContext = { secrets: context.secrets };
  try {
    const connection = context.connection as { displayUrl?: string } | undefined;
    if (connection?.displayUrl) errorContext.displayUrl = connection.displayUrl;
  } catch {
    // The flags could not be resolved; the message says so on its own.
  }
  const described = describe(error, errorContext);
  return { ...described, message: scrubSecrets(described.message, context.secrets) };
}

function describe(error: unknown, context: ErrorContext): DescribedError {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof CommanderError) return { message: error.message, exitCode: exitCodes.usage };
  // @q's own errors about queues and tasks say everything already.
  if (QError.is(error) && !['Q_BROKER', 'Q_BROKER_UNAVAILABLE'].includes(error.code)) {
    return {
      message: error.message,
      exitCode: error.code === 'Q_VALIDATION' ? exitCodes.usage : exitCodes.failure,
    };
  }
  const chain = causes(error);
  const text = chain
    .map((item) => (item instanceof Error ? `${item.name}: ${item.message}` : String(item)))
    .join(' | ');
  const where = context.displayUrl ? ` at ${context.displayUrl}` : '';
  if (credentialsPattern.test(text)) {
    return {
      message: `Redis${where} refused the credentials: ${firstLine(reason(chain, credentialsPattern))}. Check --username and --password (or the URL's user:password).`,
      exitCode: exitCodes.unreachable,
    };
  }
  if (/certificate|self[- ]signed|SSL|TLS/i.test(text) && !credentialsPattern.test(text)) {
    return {
      message: `Redis${where} presented a certificate that is not trusted (${firstLine(reason(chain, /certificate|SSL|TLS/i))}). Add its CA with NODE_EXTRA_CA_CERTS=ca.pem, name the server with --tls_server, or for a test server pass --insecure.`,
      exitCode: exitCodes.unreachable,
    };
  }
  const unavailable = chain.some((item) => QError.is(item) && item.code === 'Q_BROKER_UNAVAILABLE');
  if (unavailable || unreachablePattern.test(text)) {
    return {
      message: `Cannot reach Redis${where}: ${firstLine(reason(chain, unreachablePattern)).replace(/\.$/, '')}. Check --uri (or Q_REDIS_URL), and that redis-server is running and reachable from here.`,
      exitCode: exitCodes.unreachable,
    };
  }
  if (QError.is(error)) {
    return {
      message: error.message,
      exitCode: error.code === 'Q_VALIDATION' ? exitCodes.usage : exitCodes.failure,
    };
  }
  return { message: error instanceof Error ? error.message : String(error), exitCode: exitCodes.failure };
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && chain.length < 5 && !chain.includes(current)) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

/** The first message of the chain that names the failure, else the first one. */
function reason(chain: unknown[], pattern: RegExp): string {
  const messages = chain.map((item) => (item instanceof Error ? item.message : String(item)));
  return messages.find((message) => pattern.test(message)) ?? messages[0] ?? 'unknown error';
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
