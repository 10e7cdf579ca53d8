import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildProgram, runCli } from '../src/program.ts';
import { captureCli } from './capture-cli.ts';

const BIN = fileURLToPath(new URL('../bin/evalbot.js', import.meta.url));

describe('evalbot --help', () => {
  const commandNames = buildProgram(captureCli().ctx)
    .commands.map((c) => c.name())
    .filter((name) => name !== 'help');

  it('lists every command', async () => {
    const cli = captureCli();
    expect(await runCli(['--help'], cli.ctx)).toBe(0);
    for (const name of commandNames) expect(cli.stdout()).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it.each(commandNames)('evalbot %s --help shows its usage and options', async (name) => {
    const cli = captureCli();
    expect(await runCli([name, '--help'], cli.ctx)).toBe(0);
    expect(cli.stdout()).toContain(`Usage: evalbot ${name}`);
    expect(cli.stdout()).toContain('Options:');
    expect(cli.stderr()).toBe('');
  });

  it('exits 1 and points at --help for an unknown command or a missing option', async () => {
    const unknown = captureCli();
    expect(await runCli(['frobnicate'], unknown.ctx)).toBe(1);
    expect(unknown.stderr()).toMatch(/unknown command 'frobnicate'[\s\S]*--help/);

    const missing = captureCli();
    expect(await runCli(['replay', 'payload.json'], missing.ctx)).toBe(1);
    expect(missing.stderr()).toContain("required option '-e, --event <name>' not specified");
  });

  it('runs from bin/evalbot.js, the installed command', () => {
    const result = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: evalbot');
  });
});
