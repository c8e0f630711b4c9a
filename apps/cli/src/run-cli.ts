/** Runs the q command with the given arguments and streams; returns the exit code. Never calls process.exit. */
import { CommanderError } from 'commander';
import { CliContext, type CliIo } from './cli-context';
import { describeError } from './describe-error';
import { exitCodes } from './exit-codes';
import { createProgram } from './program';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const context = new CliContext(io);
  const program = createProgram(context);
  const configure = (command: typeof program): void => {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
    for (const child of command.commands) configure(child);
  };
  configure(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; usage errors were already printed by commander.
      if (
        error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
      )
        return exitCodes.ok;
      if (error.code === 'commander.help') return exitCodes.usage;
      return exitCodes.usage;
    }
    const described = describeError(error, context);
    io.stderr.write(`q: ${described.message}\n`);
    return described.exitCode;
  } finally {
    await context.close();
  }
}
