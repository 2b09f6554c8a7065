import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  defaultLoadGenerator,
  LOAD_GENERATORS,
  parseLoadGenerator,
  runLoad,
} from '../../src/deploy/bench/load-generator.js';

/** A server that answers 400 to every body containing "bad" and 200 otherwise, and remembers the bodies. */
function countingServer(): { server: Server; bodies: Map<string, number>; methods: Set<string> } {
  const bodies = new Map<string, number>();
  const methods = new Set<string>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      methods.add(`${req.method} ${req.url} ${req.headers['content-type']}`);
      bodies.set(body, (bodies.get(body) ?? 0) + 1);
      res.statusCode = body.includes('bad') ? 400 : 200;
      res.end('{}');
    });
  });
  return { server, bodies, methods };
}

describe('HTTP load generators', () => {
  const { server, bodies, methods } = countingServer();
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('wrk is the default here (setup installs it)', () => {
    assert.equal(defaultLoadGenerator(), 'wrk');
    assert.equal(parseLoadGenerator(undefined), 'wrk');
  });

  it('--load-generator takes wrk or autocannon and names anything else', () => {
    assert.equal(parseLoadGenerator('autocannon'), 'autocannon');
    assert.throws(
      () => parseLoadGenerator('ab'),
      /^UserError: --load-generator: expected wrk or autocannon, got "ab"$/,
    );
  });

  for (const generator of LOAD_GENERATORS) {
    it(
      `${generator}: POSTs every body in turn and counts the non-2xx answers`,
      { timeout: 60_000 },
      async () => {
        bodies.clear();
        methods.clear();
        const sent = ['{"texts":["good one"]}', '{"texts":["bad one"]}', '{"texts":["good two"]}'];
        const r = await runLoad(generator, {
          url,
          bodies: sent,
          connections: 2,
          maxRequests: 600,
          seconds: 1,
        });
        const received = [...bodies.values()].reduce((a, b) => a + b, 0);
        assert.ok(r.requests >= 30, `${r.requests} requests`);
        // The server may see a request or two more than the generator completed when it stops mid-flight.
        assert.ok(received >= r.requests && received <= r.requests + 2, `${received} vs ${r.requests}`);
        assert.deepEqual([...bodies.keys()].sort(), [...sent].sort());
        assert.deepEqual([...methods], ['POST /predict application/json']);
        // One body in three is refused.
        const bad = bodies.get(sent[1])!;
        assert.ok(Math.abs(r.non2xx - bad) <= 2, `non2xx ${r.non2xx} vs ${bad} refused`);
        assert.ok(Math.abs(r.non2xx / r.requests - 1 / 3) < 0.05, `${r.non2xx} of ${r.requests}`);
        assert.equal(r.errors, 0);
        assert.ok(r.seconds > 0 && r.seconds < 5, `${r.seconds} s`);
        // autocannon reports whole milliseconds: p50 may be 0 on loopback.
        assert.ok(r.p50 >= 0 && r.p50 <= r.p99 && r.p99 > 0, `p50 ${r.p50} p99 ${r.p99}`);
      },
    );
  }
});
