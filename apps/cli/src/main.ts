#!/usr/bin/env node
/** The q command's entry point. */
import { runCli } from './run-cli';

const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTerminal: process.stdout.isTTY === true,
});
process.exitCode = exitCode;
// Pending sockets or timers of a failed connection must not keep the command alive.
setTimeout(() => process.exit(exitCode), 200).unref();
