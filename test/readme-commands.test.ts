/**
 * Every command README.md documents runs as written on a fresh checkout. The test reads README.md at run
 * time, takes each command line from its code blocks and each `alembic …` span from its prose and tables,
 * and runs them in order in a scratch folder holding a copy of examples/ (as a fresh checkout has), failing
 * on any non-zero exit. What it changes is listed below with the reason: the README's own sizes would take
 * hours on a test machine, so data is sliced and configs shortened; placeholders (DIR, F, …) get concrete
 * paths; a few commands cannot run to completion in a test and are listed as skipped or checked by --help.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = `node ${path.join(ROOT, 'bin', 'alembic.js')}`;

/** Commands not run, each with its reason. */
const SKIPPED: { match: RegExp; reason: string }[] = [
  {
    match: /^bash scripts\/setup\.sh/,
    reason: 'machine setup (apt, npm ci, addon build): done before tests run',
  },
  {
    match: /^(ALEMBIC_PYTHON=\S+ )?npm run bench:/,
    reason: 'a benchmark run (minutes to hours); run by hand, its numbers go in the docs',
  },
  {
    match: /^alembic bench --model/,
    reason: 'a benchmark run (minutes); alembic bench is covered by deploy-serve-bench',
  },
  {
    match: /^npm run build && node examples\/api\/classify\.mjs$/,
    reason:
      'the library example imports the built package; api-packed-package runs the same API from a packed tarball',
  },
  {
    match: /^curl /,
    reason:
      'a request to a running `alembic serve`; the request and answer shapes are covered by deploy-serve-openapi',
  },
  {
    match: / --nnodes 2 /,
    reason:
      'needs a second machine; rank-launcher runs two launchers over a rendezvous file and engine-distributed two ranks over the TCP store',
  },
  {
    match: /^alembic serve --model/,
    reason: 'a server runs until stopped; covered by the deploy-serve tests',
  },
];

/** Commands that only name a subcommand or take inputs the README does not show: the subcommand must exist. */
const HELP_ONLY: RegExp[] = [
  /^alembic (embed|cluster|score|pretrain|predict|export|bench|serve|studio)$/,
  /^alembic multitask --config C$/,
  /^alembic export --int8( --int8-weights 7)?$/, // flags named in prose, no model given
  /^alembic predict --pipeline pipeline\.json$/,
  // Needs a fine-tuned WordPiece Transformer, which the README's short runs do not make; deploy-export-hf
  // exports one this way and runs it in transformers.js.
  /^alembic export --model run\/best --out exported --layout hf$/,
];

/** Placeholders in the README's prose, and the paths that stand for them here. */
const PLACEHOLDERS: [RegExp, string][] = [
  [/(data prepare \S+) --out DIR\b/, '$1 --out prepared'],
  [/ DIR2\b/g, ' out/exported'],
  [/ DIR\b/g, ' runs/my-model/best'],
  [/ --input F\b/, ' --input data/train.tsv'],
  [/ --output G\b/, ' --output out/augmented.txt'],
  [/<corpus>/, 'spam'],
  [/ --limit N\b/, ' --limit 40'],
];

/** Short-run changes: tiny data slices, and configs cut to one short epoch (the shapes stay as written). */
function shortRun(command: string, cwd: string): string {
  let c = command;
  if (/ data prepare /.test(c))
    c = / --limit /.test(c) ? c.replace(/--limit \d+/, '--limit 40') : `${c} --limit 40`;
  if (/ data prepare tang-song /.test(c)) c += ' --unlabelled 40';
  if (/ demo\b/.test(c)) c += ' --limit 40 --epochs 1';
  const config = / --config (\S+)/.exec(c)?.[1];
  if (config && / (train|distill|data-distill) /.test(c)) shortenConfig(path.resolve(cwd, config));
  return c;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- any of the example configs' shapes */
/** One epoch, short inputs, few timing examples, in the config and any config it names. */
function shortenConfig(file: string): void {
  if (!existsSync(file)) return; // the command itself will say so
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  if (config.trainer) Object.assign(config.trainer, { epochs: 1, eval_step: 1000 });
  if (config.dataset) config.dataset.max_len = 32;
  if (config.stage_trainer)
    for (const stage of Object.values(config.stage_trainer)) (stage as any).epochs = 1;
  if (config.compare) Object.assign(config.compare, { timing_examples: 8, batch_sizes: [1] });
  if (config.teacher?.model)
    Object.assign(config.teacher.model, { num_layers: 2, hidden_size: 64, num_heads: 2, ffn_size: 128 });
  if (config.student && 'layers' in config.student)
    Object.assign(config.student, { layers: 1, hidden: 32, heads: 2, ffn: 64 });
  if (config.model?.net === 'transformer')
    Object.assign(config.model, {
      num_layers: 2,
      hidden_size: 64,
      embedding_dim: 64,
      num_heads: 2,
      ffn_size: 128,
    });
  if (config.augment) config.augment.ratio = 2;
  if (config.report) config.report.qps_examples = 10;
  writeFileSync(file, JSON.stringify(config, null, 2));
  for (const key of ['teacher', 'students']) {
    const entries = key === 'students' ? (config.students ?? []) : [config.teacher ?? {}];
    for (const entry of entries)
      if (typeof entry.config === 'string') shortenConfig(path.resolve(path.dirname(file), entry.config));
  }
}

/* eslint-enable @typescript-eslint/no-explicit-any */

/** Command lines of the README's ``` blocks, then its inline `alembic …` spans, in order of appearance. */
function readmeCommands(readme: string): string[] {
  const blocks: string[] = [];
  for (const block of readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    // Only shell blocks hold commands; ts/js blocks are library code shown to the reader.
    if (!['', 'sh', 'bash', 'shell'].includes(block[1])) continue;
    // A line ending in a backslash continues on the next one: one command.
    for (const raw of block[2].replace(/\\\n\s*/g, ' ').split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (line !== '' && !line.startsWith('#')) blocks.push(line);
    }
  }
  const prose = readme.replace(/```[\s\S]*?```/g, '');
  const inline = [
    ...prose.matchAll(/`((?:alembic|npm run|node bin\/alembic\.js) [^`]*|alembic [a-z-]+)`/g),
  ].map((m) => m[1].trim());
  return [...blocks, ...new Set(inline)];
}

function runnable(command: string): string {
  // [optional parts], nested ones too, are left out, innermost first.
  let c = command;
  while (/\[[^[\]]*\]/.test(c)) c = c.replace(/\s*\[[^[\]]*\]/g, '');
  for (const [pattern, value] of PLACEHOLDERS) c = c.replace(pattern, value);
  return c
    .replace(/(^|&& |\| )npm run demo --/g, `$1${CLI} demo`)
    .replace(/(^|&& |\| )npm run demo/g, `$1${CLI} demo`)
    .replace(/(^|&& |\| )node bin\/alembic\.js/g, `$1${CLI}`)
    .replace(/(^|&& |\| )alembic /g, `$1${CLI} `);
}

test('every command in README.md runs as written (short-run data and epochs)', { timeout: 600_000 }, () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const commands = readmeCommands(readme);
  assert.ok(commands.length >= 10, `found only ${commands.length} commands in README.md`);
  const cwd = mkdtempSync(path.join(tmpdir(), 'alembic-readme-'));
  cpSync(path.join(ROOT, 'examples'), path.join(cwd, 'examples'), { recursive: true });
  const ran: string[] = [];
  const skipped: string[] = [];
  try {
    for (const command of commands) {
      if (SKIPPED.some((s) => s.match.test(command))) {
        skipped.push(command);
        continue;
      }
      const helpOnly = HELP_ONLY.some((h) => h.test(command));
      const line = helpOnly ? `${runnable(command)} --help` : shortRun(runnable(command), cwd);
      const started = Date.now();
      try {
        execFileSync('bash', ['-c', line], {
          cwd,
          input: '房间很干净\n', // what a command reading stdin (predict) is given
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, ALEMBIC_THREADS: '1' },
        });
      } catch (e) {
        const err = e as { status: number; stderr: Buffer; stdout: Buffer };
        assert.fail(
          `README command failed (exit ${err.status}): ${command}\nran: ${line}\n${err.stderr?.toString().slice(-2000)}`,
        );
      }
      ran.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${command}`);
    }
  } finally {
    process.stderr.write(ran.join('\n') + '\n');
    rmSync(cwd, { recursive: true, force: true });
  }
  assert.equal(ran.length + skipped.length, commands.length);
  assert.ok(ran.length > skipped.length, `ran ${ran.length}, skipped ${skipped.length}`);
});

test('every example config is reachable from a README command or names the command that prepares its data', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const file of [
    'distill/sentiment-zh.json',
    'distill/teacher.json',
    'distill/from-finetuned-teacher.json',
    'data-distill/data-distill.json',
  ]) {
    assert.ok(readme.includes(`examples/${file}`), `README.md runs examples/${file}`);
    const text = readFileSync(path.join(ROOT, 'examples', file), 'utf8');
    assert.match(text, /alembic data prepare \S+ --out examples\//, file);
  }
});
