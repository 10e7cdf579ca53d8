import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  deliverOk,
  type FaultStack,
  openTinyPullRequest,
  startFaultStack,
  tinyConfig,
  uniqueMarker,
  waitForReport,
} from './fault-stack.ts';

let fault: FaultStack;
beforeAll(async () => {
  fault = await startFaultStack({ runAsNobody: true });
});
afterAll(async () => fault?.close());

it('smoke', async () => {
  const t0 = Date.now();
  const marker = uniqueMarker();
  const pr = await openTinyPullRequest(fault.stack, {
    repo: 'smoke',
    headFiles: { '.evalbot.yml': tinyConfig({ marker, env: { TINY_LEARNING_RATE: 0.005, TINY_SLEEP: 1 } }) },
  });
  console.log(await deliverOk(fault.stack, pr.labeledDelivery()));
  const r = await waitForReport(fault, pr, pr.headSha);
  console.log(
    Date.now() - t0,
    r.body,
    JSON.stringify(r.checkRuns.map((c) => [c.status, c.conclusion, c.output?.title])),
  );
  console.log(fault.stack.workers[0]?.output().slice(-3000));
  expect(r.comments).toHaveLength(1);
});
