import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { augmentFile } from '../../../src/distill/augment/augment-file.js';
import { Rng } from '../../../src/util/rng.js';
import { loadJieba } from '../../../src/distill/augment/jieba.js';
import { tempDir } from '../../helpers/tiny-data.js';

// A forced collection before measuring, so the baseline is live data rather than leftover garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const WORDS = [
  '这部',
  '电影',
  '非常',
  '好看',
  '演员',
  '表演',
  '自然',
  '服务',
  '态度',
  '很差',
  '房间',
  '干净',
  '价格',
  '便宜',
  '味道',
  '不错',
  '下次',
  '还会',
  '再来',
  '我们',
];

/** ~50k lines of pre-segmented Chinese, written in chunks so the test itself never holds the file. */
async function writeBigFile(path: string, lines: number): Promise<void> {
  const stream = createWriteStream(path);
  const rng = new Rng(99);
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    const n = 8 + rng.int(24);
    const words = Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)]);
    chunk += `${words.join(' ')} 第${i % 1000}号\t${i % 2}\n`;
    if (chunk.length > 1 << 16) {
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
    }
  }
  stream.end(chunk);
  await once(stream, 'finish');
}

test('augmenting a ~50k-line file keeps memory far below the file size', async () => {
  const dir = tempDir('alembic-augment-stream-');
  const input = join(dir, 'big.tsv');
  const output = join(dir, 'big-aug.tsv');
  await writeBigFile(input, 50_000);
  const fileBytes = statSync(input).size;

  await loadJieba(); // its ~5 MB dictionary is a fixed cost, not growth with the file
  gc();
  const base = process.memoryUsage();
  // Live heap during the run: collect, then measure, so V8's lazily collected garbage does not count.
  let peakHeap = base.heapUsed;
  const sampler = setInterval(() => {
    gc();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 50);
  const result = await augmentFile({
    input,
    output,
    ratio: 2,
    strategies: { unk: 1, pos: 1, nsample: 1 },
    seed: 1,
  });
  clearInterval(sampler);
  gc();
  const after = process.memoryUsage();

  assert.equal(result.read, 50_000);
  assert.ok(result.written > 75_000, `written ${result.written}`);
  const peakGrowth = peakHeap - base.heapUsed;
  const retained = after.heapUsed + after.arrayBuffers - (base.heapUsed + base.arrayBuffers);
  assert.ok(peakGrowth < fileBytes / 2, `heap grew ${peakGrowth} bytes for a ${fileBytes}-byte file`);
  assert.ok(retained < fileBytes / 4, `${retained} bytes retained`);
  rmSync(dir, { recursive: true, force: true });
});
