import { ConfigError } from '@evalbot/config';
import { Command, CommanderError } from 'commander';
import { type CliContext, CliError } from './cli-context.ts';
import { COMMANDS } from './commands/index.ts';

/** The `evalbot` program with every command, writing to `ctx`'s streams and never exiting. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('evalbot')
    .description('evalbot: train and compare the model of two commits, and operate the GitHub App')
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .helpCommand(true);
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/** Run `evalbot` with `args` (without the node and script paths); resolves to the exit code. */
export async function runCli(args: readonly string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (error) {
    // Commander has already printed its own message (usage errors, --help, --version).
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError || error instanceof ConfigError) {
      if (error.message) ctx.stderr.write(`evalbot: ${error.message}\n`);
      return error instanceof CliError ? error.exitCode : 78;
    }
    throw error;
  }
}
