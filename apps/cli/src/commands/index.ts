import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';
import { registerCompare } from './compare.ts';
import { registerDemo } from './demo.ts';
import { registerReplay } from './replay.ts';
import { registerSetup } from './setup.ts';

/**
 * Adds one subcommand to `program` with `program.command(...)` (so it inherits the program's
 * output and exit handling). Its action throws `CliError` to fail with a message and exit code.
 */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/**
 * Every `evalbot` subcommand, in the order `--help` lists them. A new command is a file
 * `src/commands/<name>.ts` exporting a `RegisterCommand`, added here.
 */
export const COMMANDS: readonly RegisterCommand[] = [
  registerCompare,
  registerDemo,
  registerReplay,
  registerSetup,
];
