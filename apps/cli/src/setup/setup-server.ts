import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppManifest, appCreationUrl } from './app-manifest.ts';
import type { CompletedSetup } from './complete-app-setup.ts';

export interface SetupServer {
  /** The page to open in a browser, e.g. http://127.0.0.1:40123/ */
  url: string;
  /** Settles when GitHub has sent the browser back and the code was converted (or failed). */
  result: Promise<CompletedSetup>;
  close(): Promise<void>;
}

const CALLBACK_PATH = '/callback';

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer}
code,pre{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}pre{padding:1rem;overflow:auto;font-size:13px}</style>
</head><body>${body}</body></html>`;
}

function send(res: ServerResponse, status: number, html: string, formAction = "'none'") {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}`,
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

/**
 * The browser half of `evalbot setup`: a page on loopback with a form that posts the App
 * manifest to GitHub, and the callback GitHub redirects to with `?code=&state=`. `complete`
 * turns the code into stored credentials (see `completeAppSetup`).
 */
export async function startSetupServer(opts: {
  host: string;
  /** 0 picks a free port. */
  port: number;
  githubUrl: string;
  org?: string;
  buildManifest: (redirectUrl: string) => AppManifest;
  complete: (code: string) => Promise<CompletedSetup>;
}): Promise<SetupServer> {
  // Echoed back by GitHub with the code: a redirect without it did not come from our form.
  const state = randomBytes(16).toString('hex');
  let settle: { resolve: (r: CompletedSetup) => void; reject: (e: Error) => void } | undefined;
  const result = new Promise<CompletedSetup>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let finished = false;
  let origin = '';

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Answer only to our own address: a page elsewhere cannot reach this server through DNS rebinding.
    const ours = new URL(origin);
    if (req.headers.host !== ours.host && req.headers.host !== `localhost:${ours.port}`) {
      return send(res, 421, page('Wrong host', '<p>Open this page at its loopback address.</p>'));
    }
    const url = new URL(req.url ?? '/', origin);
    if (req.method === 'GET' && url.pathname === '/') {
      const manifest = opts.buildManifest(`${origin}${CALLBACK_PATH}`);
      const action = appCreationUrl(opts.githubUrl, state, opts.org);
      const where = opts.org ? `the organization <b>${escapeHtml(opts.org)}</b>` : 'your account';
      return send(
        res,
        200,
        page(
          'Create the evalbot GitHub App',
          `<h1>Create the evalbot GitHub App</h1>
<p>This creates a GitHub App named <b>${escapeHtml(manifest.name)}</b> owned by ${where}, sending webhooks to
<code>${escapeHtml(manifest.hook_attributes.url)}</code>. GitHub shows you the App before creating it, then sends you
back here; evalbot then writes the App's id, private key and webhook secret to your <code>.env</code>.</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">
<button type="submit">Create the GitHub App on ${escapeHtml(new URL(opts.githubUrl).host)}</button>
</form>
<details><summary>Manifest</summary><pre>${escapeHtml(JSON.stringify(manifest, null, 2))}</pre></details>`,
        ),
        // GitHub may redirect the form's POST straight back here.
        `${new URL(opts.githubUrl).origin} 'self'`,
      );
    }
    if (req.method === 'GET' && url.pathname === CALLBACK_PATH) {
      const code = url.searchParams.get('code');
      const given = Buffer.from(url.searchParams.get('state') ?? '');
      if (!code || given.length !== state.length || !timingSafeEqual(given, Buffer.from(state))) {
        return send(
          res,
          400,
          page('Not from this setup', '<p>This link does not come from this setup; start again.</p>'),
        );
      }
      if (finished)
        return send(res, 409, page('Already done', '<p>This setup has finished; close this tab.</p>'));
      finished = true;
      try {
        const done = await opts.complete(code);
        send(
          res,
          200,
          page(
            'evalbot App created',
            `<h1>Done: ${escapeHtml(done.app.name)} (App id ${done.app.id})</h1>
<p>Wrote ${done.keys.map((k) => `<code>${k}</code>`).join(', ')} to <code>${escapeHtml(done.envFile)}</code>.</p>
<p>Next, <a href="${escapeHtml(`${done.app.htmlUrl}/installations/new`)}">install the App</a> on the repositories to evaluate.
You can close this tab.</p>`,
          ),
        );
        settle?.resolve(done);
      } catch (error) {
        send(
          res,
          502,
          page('Setup failed', `<h1>Setup failed</h1><pre>${escapeHtml((error as Error).message)}</pre>`),
        );
        settle?.reject(error as Error);
      }
      return;
    }
    send(res, 404, page('Not found', '<p>Not found.</p>'));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) send(res, 500, page('Error', `<pre>${escapeHtml(error.message)}</pre>`));
    });
  });
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  origin = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;

  return {
    url: `${origin}/`,
    result,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
