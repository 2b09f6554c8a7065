/**
 * Tiny generated datasets for end-to-end tests: the label is decided by which cue word a text holds,
 * so a model can learn it in seconds, and the answers are known.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../../src/util/rng.js';

const POSITIVE = ['好', '棒', '喜欢', '满意', '优秀', '开心'];
const NEGATIVE = ['差', '烂', '讨厌', '失望', '糟糕', '难过'];
const FILLER = ['房间', '服务', '早餐', '位置', '价格', '环境', '我', '很', '的', '了', '这个', '酒店'];

/**
 * A fresh directory under the OS temp dir, removed when the test process exits (node --test runs each
 * file in its own process). ALEMBIC_KEEP_TMP=1 keeps them, to look at what a failing test wrote.
 */
export function tempDir(prefix = 'alembic-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (createdDirs.size === 0 && !process.env.ALEMBIC_KEEP_TMP) process.on('exit', removeCreatedDirs);
  createdDirs.add(dir);
  return dir;
}

const createdDirs = new Set<string>();

function removeCreatedDirs(): void {
  for (const dir of createdDirs) rmSync(dir, { recursive: true, force: true });
}

/** A Chinese sentiment-like text and its label (正面/负面). */
export function sentimentExample(rng: Rng): { text: string; label: string } {
  const positive = rng.next() < 0.5;
  const words = Array.from({ length: 2 + rng.int(7) }, () => FILLER[rng.int(FILLER.length)]);
  const cues = positive ? POSITIVE : NEGATIVE;
  words.splice(rng.int(words.length + 1), 0, cues[rng.int(cues.length)]);
  return { text: words.join(''), label: positive ? '正面' : '负面' };
}

/** Writes train/dev/test TSV files of `text<TAB>label` and returns their paths. */
export function writeSentimentSplits(dir: string, sizes = { train: 300, dev: 60, test: 60 }, seed = 1) {
  const rng = new Rng(seed);
  const files: Record<string, string> = {};
  for (const [name, n] of Object.entries(sizes)) {
    const lines = Array.from({ length: n }, () => {
      const e = sentimentExample(rng);
      return `${e.text}\t${e.label}`;
    });
    files[name] = path.join(dir, `${name}.tsv`);
    writeFileSync(files[name], lines.join('\n') + '\n');
  }
  return files as { train: string; dev: string; test: string };
}
