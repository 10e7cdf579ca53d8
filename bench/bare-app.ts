// The ingestion benchmark's yardstick, run as its own process: a bare Fastify app (default
// settings, JSON body parsed by Fastify's own parser, no logger) that answers 200 to the
// webhook path. Usage: node --import tsx bench/bare-app.ts <port> <path>
import Fastify from 'fastify';

const [port = '0', path = '/api/github/webhooks'] = process.argv.slice(2);
const app = Fastify({ bodyLimit: 25 * 1024 * 1024 });
app.post(path, async () => ({ status: 'ok' }));
app.get('/readyz', async () => ({ status: 'ready' }));
await app.listen({ port: Number(port), host: '127.0.0.1' });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
