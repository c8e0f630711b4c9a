#!/usr/bin/env node
/** The q command's entry point. */
import { runCli } from './run-cli';

const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTerminal: process.stdout.isTTY === true,
});
// Exit at once, once the output is written: a closed connection's leftovers must not keep the command alive.
const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
  new Promise((done) => (stream.writableLength === 0 ? done() : stream.once('drain', () => done())));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(exitCode);
