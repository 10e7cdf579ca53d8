export {
  asyncStdout,
  type CreateLoggerOptions,
  createLogger,
  type Logger,
  REDACTED_PATHS,
  type ServiceName,
} from './create-logger.ts';
export { redactSecrets } from './redact-secrets.ts';
