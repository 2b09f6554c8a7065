import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseModelArg } from '../../../src/cli/serve.js';
import { openPredictor } from '../../../src/deploy/open-predictor.js';
import { PredictionServer } from '../../../src/deploy/serve/server.js';
import { tempDir } from '../../helpers/tiny-data.js';
import { trainTinyBow } from '../../helpers/tiny-export.js';

const CLI = fileURLToPath(new URL('../../../bin/alembic.js', import.meta.url));

interface PredictBody {
  model: string;
  predictions: { label: string; labels: string[]; probabilities: Record<string, number> }[];
}

async function predict(base: string, route: string, texts: string[]): Promise<PredictBody> {
  const res = await fetch(base + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ texts }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as PredictBody;
}

const TEXTS = ['这个酒店很棒', '房间很差，很失望', '早餐 满意', ''];

describe('alembic serve with real models', () => {
  let modelDir: string;
  let exportDir: string;

  before(async () => {
    ({ modelDir, exportDir } = await trainTinyBow({ examples: 300, epochs: 4, width: 16, maxLen: 32 }));
  });

  it('serves a trained (libtorch) and an exported (onnxruntime) model side by side with the same answers', async () => {
    const server = await PredictionServer.create({
      models: [
        { name: 'onnx', predictor: await openPredictor(exportDir) },
        { name: 'torch', predictor: await openPredictor(modelDir) },
      ],
    });
    const base = await server.listen(0);
    try {
      const viaDefault = await predict(base, '/predict', TEXTS);
      const viaTorch = await predict(base, '/models/torch/predict', TEXTS);
      assert.equal(viaDefault.model, 'onnx');
      assert.equal(viaTorch.model, 'torch');
      viaDefault.predictions.forEach((p, i) => {
        const q = viaTorch.predictions[i];
        assert.equal(p.label, q.label, TEXTS[i]);
        assert.deepEqual(Object.keys(p.probabilities), ['正面', '负面']);
        for (const k of Object.keys(p.probabilities))
          assert.ok(Math.abs(p.probabilities[k] - q.probabilities[k]) < 1e-4, `${TEXTS[i]} ${k}`);
      });
      // The cue words decide the label in the generated data; a trained model gets these two right.
      assert.equal(viaDefault.predictions[0].label, '正面');
      assert.equal(viaDefault.predictions[1].label, '负面');
    } finally {
      await server.close();
    }
  });

  it('names a bare directory after its folder and splits name=DIR', () => {
    assert.deepEqual(parseModelArg('sent=/x/y'), { name: 'sent', dir: '/x/y' });
    assert.deepEqual(parseModelArg('/runs/my model/export'), {
      name: 'export',
      dir: '/runs/my model/export',
    });
    assert.deepEqual(parseModelArg('/runs/a b'), { name: 'a_b', dir: '/runs/a b' });
  });

  it('runs from the command line and stops cleanly on SIGTERM', { timeout: 120_000 }, async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--model', `sent=${exportDir}`, '--port', '0', '--no-demo'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const base = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    });
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(out, /models: sent \(default\) \[text_classification\]/);
    const body = await predict(base, '/predict', ['这个酒店很棒']);
    assert.equal(body.predictions[0].label, '正面');
    assert.equal((await fetch(base + '/demo/')).status, 404, '--no-demo leaves the page out');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.match(err, /SIGTERM: finishing accepted requests/);
  });

  it('explains a directory that is not a model', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--model', tempDir(), '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 2);
    assert.match(err, /not an alembic model directory/);
  });
});
