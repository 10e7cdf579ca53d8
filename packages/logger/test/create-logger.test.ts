import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.ts';

function loggerWithLines() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: 'evalbot-worker',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes service, pid and hostname on every line, child loggers included', () => {
    const { logger, lines } = loggerWithLines();
    logger.info('worker started');
    logger.child({ component: 'redis' }).warn({ jobId: '7' }, 'reconnecting');
    expect(lines).toEqual([
      expect.objectContaining({
        service: 'evalbot-worker',
        pid: process.pid,
        hostname: hostname(),
        msg: 'worker started',
      }),
      expect.objectContaining({
        service: 'evalbot-worker',
        pid: process.pid,
        hostname: hostname(),
        component: 'redis',
        jobId: '7',
        msg: 'reconnecting',
      }),
    ]);
  });

  it('never writes a secret-named field', () => {
    const { logger, lines } = loggerWithLines();
    logger.info({ token: 'ghs_abc', req: { headers: { authorization: 'Bearer x' } } }, 'request');
    expect(lines[0]).toMatchObject({
      token: '[redacted]',
      req: { headers: { authorization: '[redacted]' } },
    });
  });
});
