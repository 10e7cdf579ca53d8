export { freePort } from './free-port.ts';
export {
  type DemoPullRequest,
  demoWithLearningRate,
  ML_DEMO_DIR,
  ML_DEMO_EXCLUDE,
  openMlDemoPullRequest,
} from './ml-demo-pull-request.ts';
export { type RedisServer, startRedis } from './redis-server.ts';
export {
  type AppRuntime,
  answers,
  REPO_ROOT,
  type ServiceProcess,
  startServiceProcess,
} from './service-process.ts';
export {
  createSimulatedNetwork,
  inNetns,
  type SimulatedHost,
  type SimulatedNetwork,
} from './simulated-network.ts';
export {
  type LocalStack,
  type LocalStackOptions,
  type LocalStackSentinel,
  startLocalStack,
} from './start-local-stack.ts';
export {
  type ManyHostsStack,
  type ManyHostsStackOptions,
  startManyHostsStack,
  type WorkerHost,
  type WorkerHostOptions,
} from './start-many-hosts-stack.ts';
export { waitFor } from './wait-for.ts';
