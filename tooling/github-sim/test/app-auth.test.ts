import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHubSim, generateAppKeyPair, startGitHubSim } from '../src/index.ts';
import { goodClaims, signJwt } from './jwt-helpers.ts';

let sim: GitHubSim;
let privateKey: string;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  sim = await startGitHubSim({ appId: 4242, slug: 'evalbot-test', clientId: 'Iv1.abc123' });
  privateKey = sim.privateKey ?? '';
  sim.createInstallation({ id: 77, account: 'octo-org' });
});
afterAll(() => sim.close());

async function mintToken(jwt: string, installationId = 77) {
  const res = await fetch(`${sim.url}/app/installations/${installationId}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('App JWTs', () => {
  it('issues an expiring ghs_ installation token for a correctly signed JWT', async () => {
    const { status, body } = await mintToken(signJwt(goodClaims(4242), privateKey));
    expect(status).toBe(201);
    expect(body.token).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    const expiresIn = Date.parse(String(body.expires_at)) - Date.now();
    expect(expiresIn).toBeGreaterThan(59 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(60 * 60_000);
    expect(body.repository_selection).toBe('all');
  });

  it('accepts iss as a numeric string or as the client id, as GitHub does', async () => {
    const t = now();
    expect((await mintToken(signJwt({ ...goodClaims(4242, t), iss: '4242' }, privateKey))).status).toBe(201);
    expect((await mintToken(signJwt({ ...goodClaims(4242, t), iss: 'Iv1.abc123' }, privateKey))).status).toBe(
      201,
    );
  });

  it('refuses a JWT signed with another key as undecodable', async () => {
    const other = generateAppKeyPair();
    const { status, body } = await mintToken(signJwt(goodClaims(4242), other.privateKey));
    expect(status).toBe(401);
    expect(body).toMatchObject({
      message: 'A JSON web token could not be decoded',
      documentation_url: 'https://docs.github.com/rest',
    });
  });

  it("refuses a JWT for another App's id as undecodable", async () => {
    const { status, body } = await mintToken(signJwt(goodClaims(999), privateKey));
    expect(status).toBe(401);
    expect(body.message).toBe('A JSON web token could not be decoded');
  });

  it('refuses an expired JWT with GitHub’s exp message', async () => {
    const t = now() - 3600;
    const { status, body } = await mintToken(signJwt({ iat: t, exp: t + 600, iss: 4242 }, privateKey));
    expect(status).toBe(401);
    expect(body.message).toBe(
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    );
  });

  it('refuses a JWT valid for more than 10 minutes', async () => {
    const t = now();
    const { status, body } = await mintToken(signJwt({ iat: t - 30, exp: t + 3600, iss: 4242 }, privateKey));
    expect(status).toBe(401);
    expect(body.message).toBe("'Expiration time' claim ('exp') is too far in the future");
  });

  it('refuses a JWT issued in the future with GitHub’s iat message', async () => {
    const t = now() + 300;
    const { status, body } = await mintToken(signJwt({ iat: t, exp: t + 500, iss: 4242 }, privateKey));
    expect(status).toBe(401);
    expect(body.message).toBe(
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    );
  });

  it('refuses garbage in place of a JWT', async () => {
    const { status, body } = await mintToken('eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln');
    expect(status).toBe(401);
    expect(body.message).toBe('A JSON web token could not be decoded');
  });

  it('answers 404 for an installation that does not exist', async () => {
    const { status, body } = await mintToken(signJwt(goodClaims(4242), privateKey), 123456);
    expect(status).toBe(404);
    expect(body.message).toBe('Not Found');
  });

  it('describes the App on GET /app for a JWT, and not for an installation token', async () => {
    const jwt = signJwt(goodClaims(4242), privateKey);
    const res = await fetch(`${sim.url}/app`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: 4242,
      slug: 'evalbot-test',
      owner: { login: 'evalbot-dev' },
    });

    const { body } = await mintToken(jwt);
    const refused = await fetch(`${sim.url}/app`, { headers: { authorization: `token ${body.token}` } });
    expect(refused.status).toBe(401);
  });
});

describe('App manifest conversion', () => {
  it('turns a registered code into the App’s credentials once, and 404s after', async () => {
    const code = sim.registerManifestCode({ name: 'evalbot-local', webhookSecret: 'whsec-from-manifest' });
    const convert = () => fetch(`${sim.url}/app-manifests/${code}/conversions`, { method: 'POST' });
    const res = await convert();
    expect(res.status).toBe(201);
    const app = (await res.json()) as Record<string, unknown>;
    expect(app).toMatchObject({
      id: 4242,
      slug: 'evalbot-test',
      name: 'evalbot-local',
      client_id: 'Iv1.abc123',
      webhook_secret: 'whsec-from-manifest',
    });
    expect(String(app.pem)).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(String(app.client_secret)).toMatch(/^[0-9a-f]{40}$/);
    expect(sim.webhookSecret).toBe('whsec-from-manifest');
    expect((await convert()).status).toBe(404);
  });

  it('redirects the browser flow back to the manifest’s redirect_url with a code', async () => {
    const manifest = {
      name: 'from-browser',
      url: 'http://localhost:3000',
      redirect_url: 'http://127.0.0.1:9/done',
    };
    const res = await fetch(`${sim.gitUrl}/settings/apps/new?state=xyz`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ manifest: JSON.stringify(manifest) }),
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('http://127.0.0.1:9/done');
    expect(location.searchParams.get('state')).toBe('xyz');
    const conversion = await fetch(
      `${sim.url}/app-manifests/${location.searchParams.get('code')}/conversions`,
      {
        method: 'POST',
      },
    );
    expect(((await conversion.json()) as { name: string }).name).toBe('from-browser');
  });
});

describe('an App with several private keys, as during a key rotation', () => {
  it("accepts a JWT signed with any of the App's keys, and refuses one signed with a deleted key", async () => {
    const rotating = await startGitHubSim({ appId: 5151 });
    try {
      rotating.createInstallation({ id: 88, account: 'octo-org' });
      const mint = async (pem: string) =>
        (
          await fetch(`${rotating.url}/app/installations/88/access_tokens`, {
            method: 'POST',
            headers: { authorization: `Bearer ${signJwt(goodClaims(5151), pem)}` },
          })
        ).status;
      const old = rotating.privateKey ?? '';
      const generated = rotating.generatePrivateKey();
      expect(generated).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
      expect(await mint(old)).toBe(201);
      expect(await mint(generated)).toBe(201);

      rotating.deletePrivateKey(old);
      expect(await mint(old)).toBe(401);
      expect(await mint(generated)).toBe(201);
      // GitHub keeps an App from deleting its last key.
      expect(() => rotating.deletePrivateKey(generated)).toThrow(/at least one private key/);
    } finally {
      await rotating.close();
    }
  });
});
