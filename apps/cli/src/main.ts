import { runCli } from './program.ts';

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  process.stderr.write('\nevalbot: stopping (Ctrl-C again to quit at once)\n');
  interrupt.abort(new Error('interrupted'));
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: interrupt.signal,
});
process.exitCode = interrupt.signal.aborted && code === 0 ? 130 : code;
