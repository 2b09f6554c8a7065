/**
 * The studio's guards: a non-loopback bind refuses requests without its access token (401) and accepts the
 * token as a Bearer header or as the cookie the printed link sets; a loopback bind refuses foreign Host
 * headers; names that leave the workspace (traversal, absolute, a symlink planted in data/) are refused in
 * upload, preview, split and run configs; an upload over the limit is refused with 413 (declared or
 * streamed) and leaves no file behind.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createStudio, type Studio } from '../../src/studio/studio-server.js';
import { call } from '../helpers/studio-client.js';
import { tempDir } from '../helpers/tiny-data.js';

describe('studio access on a non-loopback bind', () => {
  let s: Studio;
  let ws: string;
  before(async () => {
    ws = tempDir('studio-token-');
    s = await createStudio({ workspace: ws, host: '0.0.0.0' });
  });
  after(() => s.close());

  it('makes a token, stored with mode 0600', () => {
    assert.ok(s.token && s.token.length >= 32);
    const file = path.join(ws, '.alembic-studio', 'token');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('refuses requests without the token, or with a wrong one', async () => {
    const tries: Record<string, string>[] = [{}, { authorization: 'Bearer nope' }, { cookie: 'token=nope' }];
    for (const headers of tries) {
      const r = await call(s, 'GET', '/api/files', undefined, headers);
      assert.equal(r.status, 401);
      assert.match(String(r.body.error), /access token/);
    }
    assert.equal((await call(s, 'GET', '/')).status, 401);
  });

  it('accepts the token as Bearer, and as the cookie the printed link sets', async () => {
    assert.equal(
      (await call(s, 'GET', '/api/health', undefined, { authorization: `Bearer ${s.token}` })).status,
      200,
    );
    const link = await call(s, 'GET', `/?token=${s.token}`);
    assert.equal(link.status, 302);
    const cookie = String(link.headers['set-cookie']).split(';')[0];
    assert.match(String(link.headers['set-cookie']), /HttpOnly/);
    const r = await call(s, 'GET', '/api/files', undefined, { cookie });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, []);
  });

  it('a restarted studio keeps the same token', async () => {
    const again = await createStudio({ workspace: ws, host: '0.0.0.0' });
    try {
      assert.equal(again.token, s.token);
    } finally {
      await again.close();
    }
  });
});

describe('studio confinement to the workspace', () => {
  let s: Studio;
  let ws: string;
  let outside: string;
  before(async () => {
    ws = tempDir('studio-confine-');
    outside = tempDir('studio-outside-');
    writeFileSync(path.join(outside, 'secret.tsv'), 'secret text\tsecret\n');
    s = await createStudio({ workspace: ws, maxUploadBytes: 1000 });
    // Symlinks planted in the workspace, pointing out of it: to a file and to a folder.
    symlinkSync(path.join(outside, 'secret.tsv'), path.join(ws, 'data', 'link.tsv'));
    symlinkSync(outside, path.join(ws, 'data', 'linkdir'));
    writeFileSync(path.join(ws, 'data', 'ok.tsv'), 'a good text\tpos\nbad text\tneg\n');
  });
  after(() => s.close());

  it('binds to loopback without a token, and refuses a foreign Host header', async () => {
    assert.equal(s.token, undefined);
    assert.equal((await call(s, 'GET', '/api/health')).status, 200);
    assert.equal((await call(s, 'GET', '/api/health', undefined, { host: 'evil.example:7860' })).status, 403);
  });

  it('refuses traversal and absolute names in upload, preview and split', async () => {
    const bad = ['../escape.tsv', '..', '/etc/passwd', 'a/b.tsv', '..\\x.tsv', '.hidden'];
    for (const name of bad) {
      const up = await call(s, 'POST', `/api/files?name=${encodeURIComponent(name)}`, Buffer.from('x\ty\n'));
      assert.ok([400, 403].includes(up.status), `${name}: ${up.status}`);
      const pv = await call(s, 'GET', `/api/files/${encodeURIComponent(name)}/preview`);
      assert.ok([400, 403, 404].includes(pv.status), `${name}: ${pv.status}`);
      const sp = await call(s, 'POST', `/api/files/${encodeURIComponent(name)}/split`, {});
      assert.ok([400, 403, 404].includes(sp.status), `${name}: ${sp.status}`);
    }
    assert.equal(existsSync(path.join(ws, 'escape.tsv')), false);
    assert.deepEqual(readdirSync(outside), ['secret.tsv']);
  });

  it('serves runs by their id only: a path in its place is not found', async () => {
    for (const id of ['..%2F..%2Fetc', '%2Fetc%2Fpasswd', '1%2F..%2F..']) {
      const r = await call(s, 'GET', `/api/runs/${id}/download?what=model`);
      assert.equal(r.status, 404, id);
      assert.equal((await call(s, 'GET', `/api/runs/${id}/report`)).status, 404, id);
    }
  });

  it('reads nothing through a symlink that leads out of the workspace', async () => {
    const pv = await call(s, 'GET', '/api/files/link.tsv/preview');
    assert.equal(pv.status, 403);
    assert.doesNotMatch(pv.text, /secret text/);
    const up = await call(s, 'POST', '/api/files?name=link.tsv', Buffer.from('overwrite\tx\n'));
    assert.equal(up.status, 403);
    const dir = await call(s, 'GET', '/api/files/linkdir/preview');
    assert.ok([403, 404].includes(dir.status));
    // The file list shows neither link as a file to open.
    const names = (await call(s, 'GET', '/api/files')).body as unknown as { name: string }[];
    assert.deepEqual(
      names.map((f) => f.name),
      ['ok.tsv'],
    );
  });

  it('refuses a run config whose data lies outside the workspace', async () => {
    for (const train of [
      path.join(outside, 'secret.tsv'),
      '../' + path.basename(outside) + '/secret.tsv',
      'data/link.tsv',
    ]) {
      const config = {
        task: 'text_classification',
        dataset: { train, max_len: 8 },
        model: { net: 'bow', embedding_dim: 4, hidden_size: 4 },
        trainer: { epochs: 1 },
      };
      const v = await call(s, 'POST', '/api/config/validate', { config });
      assert.equal(v.body.ok, false);
      assert.match(String((v.body.errors as string[])[0]), /dataset\.train: .* outside the workspace/);
      const r = await call(s, 'POST', '/api/runs', { name: 'escape', config });
      assert.equal(r.status, 403);
    }
    assert.deepEqual((await call(s, 'GET', '/api/runs')).body, []);
  });

  it('refuses an upload over the limit, declared or streamed, and keeps nothing of it', async () => {
    const big = Buffer.alloc(2000, 'x');
    const r = await call(s, 'POST', '/api/files?name=big.tsv', big);
    assert.equal(r.status, 413);
    const address = await s.listen(0);
    // Chunked, with no Content-Length: the limit is counted as the bytes arrive.
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(600).fill(65));
        c.close();
      },
    });
    const res = await fetch(`${address}/api/files?name=big2.tsv`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { error: string }).error, /larger than/);
    const left = readdirSync(path.join(ws, 'data'));
    assert.ok(!left.some((f) => f.startsWith('big')), left.join(', '));
    // Under the limit is accepted, and a second upload under the same name does not replace it.
    assert.equal((await call(s, 'POST', '/api/files?name=small.tsv', Buffer.from('a\tb\n'))).status, 201);
    assert.equal((await call(s, 'POST', '/api/files?name=small.tsv', Buffer.from('c\td\n'))).status, 409);
  });

  it('accepts only JSON and raw uploads, so a plain cross-site form cannot post', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/api/runs',
      payload: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.statusCode, 415);
  });
});
