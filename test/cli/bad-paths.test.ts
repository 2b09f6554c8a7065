/**
 * Every CLI verb against a table of bad paths — missing, a directory where a file belongs, a path under a
 * regular file, unreadable, unwritable — run as the unprivileged user `nobody` (the tests run as root, and
 * root ignores permissions). Each must end with one `alembic: …` line and exit 2: no stack frame ever
 * reaches stderr. The table runs in one process as nobody (helpers/cli-in-process.ts: a spawn per case
 * would cost over a second of module loading each); a few cases also run as real processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

const CLI = fileURLToPath(new URL('../../bin/alembic.js', import.meta.url));
const NOBODY = 65534;
const ALL_VERBS = readFileSync(fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)), 'utf8')
  .match(/^register[A-Z]\w*\(program\);$/gm)!
  .map((line) =>
    line
      .slice('register'.length, -'(program);'.length)
      .replace(/[A-Z]/g, (c, i: number) => (i === 0 ? '' : '-') + c.toLowerCase()),
  );

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function alembicAsNobody(args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      uid: NOBODY,
      gid: NOBODY,
      cwd,
      env: { ...process.env, HOME: cwd, ALEMBIC_KEEP_TMP: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end('');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const HARNESS = fileURLToPath(new URL('../helpers/cli-in-process.ts', import.meta.url));

/** Runs every command line in one process as nobody (see helpers/cli-in-process.ts). */
async function runAllAsNobody(cases: string[][], dir: string): Promise<Run[]> {
  const work = path.join(dir, 'harness');
  mkdirSync(work);
  chmodSync(work, 0o777);
  const casesFile = path.join(work, 'cases.json');
  const resultsFile = path.join(work, 'results.json');
  writeFileSync(casesFile, JSON.stringify(cases));
  const r = await new Promise<Run>((done) => {
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), HARNESS, casesFile, resultsFile],
      {
        uid: NOBODY,
        gid: NOBODY,
        cwd: dir,
        env: { ...process.env, HOME: dir },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout: '', stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(readFileSync(resultsFile, 'utf8')) as Run[];
}

describe('every CLI verb against bad paths, as a non-root user', () => {
  let root: string;
  /** Bad paths by kind, for a file the command reads, a directory it reads, and a place it writes. */
  let bad: Record<string, string>;
  let model: string;
  let data: string;
  const cases: { verb: string; name: string; args: string[] }[] = [];
  let runs: Run[] = [];

  before(async () => {
    root = tempDir('alembic-bad-paths-');
    chmodSync(root, 0o755);
    const files = writeSentimentSplits(root, { train: 60, dev: 10, test: 10 });
    data = files.dev;
    const config = (over: Record<string, unknown>) => ({
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, max_len: 16 },
      model: { net: 'bow', embedding_dim: 8, hidden_size: 8 },
      trainer: { epochs: 1, batch_size: 16, threads: 1, output_dir: path.join(root, 'run'), ...over },
    });
    await train(parseConfig(config({}), path.join(root, 'config.json')), { quiet: true, log: () => {} });
    model = path.join(root, 'run', 'best');

    const aFile = path.join(root, 'a-file.txt');
    writeFileSync(aFile, 'just a file\n');
    const aDir = path.join(root, 'a-dir');
    mkdirSync(aDir);
    const secretFile = path.join(root, 'secret.tsv');
    writeFileSync(secretFile, readFileSync(files.dev));
    chmodSync(secretFile, 0o000);
    const secretDir = path.join(root, 'secret-dir');
    mkdirSync(secretDir);
    writeFileSync(path.join(secretDir, 'alembic-model.json'), '{}');
    chmodSync(secretDir, 0o000);
    const readOnly = path.join(root, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    // A run locks its output_dir before it reads data: cases about an input need an output nobody can write.
    const writable = path.join(root, 'writable');
    mkdirSync(writable);
    chmodSync(writable, 0o777);
    bad = {
      missing: path.join(root, 'no-such-file'),
      directory: aDir,
      'under a file': path.join(aFile, 'inside'),
      unreadable: secretFile,
      'unreadable directory': secretDir,
      'a file as directory': aFile,
      unwritable: path.join(readOnly, 'out'),
    };
    const configWith = (name: string, over: Record<string, unknown>, dataset?: Record<string, unknown>) => {
      const c = config(over);
      if (dataset) Object.assign(c.dataset, dataset);
      const file = path.join(root, `${name}.json`);
      writeFileSync(file, JSON.stringify(c));
      return file;
    };

    const fileKinds = ['missing', 'directory', 'under a file', 'unreadable'];
    const dirKinds = ['missing', 'a file as directory', 'under a file', 'unreadable directory'];
    const outKinds = ['unwritable', 'under a file'];
    const add = (verb: string, kinds: string[], args: (p: string) => string[]) => {
      for (const kind of kinds)
        cases.push({ verb, name: `${verb} ${kind}`, args: [verb, ...args(bad[kind])] });
    };
    add('train', fileKinds, (p) => ['-c', p]);
    cases.push({
      verb: 'train',
      name: 'train dataset.train a directory',
      args: [
        'train',
        '-c',
        configWith('train-dir', { output_dir: path.join(writable, 'run') }, { train: aDir }),
        '--quiet',
      ],
    });
    for (const kind of outKinds)
      cases.push({
        verb: 'train',
        name: `train output_dir ${kind}`,
        args: [
          'train',
          '-c',
          configWith(`out-${kind.replace(/ /g, '-')}`, { output_dir: bad[kind] }),
          '--quiet',
        ],
      });
    add('advise', fileKinds, (p) => ['--spec', p]);
    add('demo', outKinds, (p) => ['--out', p, '--epochs', '1']);
    add('eval', dirKinds, (p) => ['-m', p, '-d', data]);
    add('eval', fileKinds, (p) => ['-m', model, '-d', p]);
    add('predict', fileKinds, (p) => ['-m', model, '-i', p]);
    add('predict', ['missing', 'directory'], (p) => ['--pipeline', p, '-i', data]);
    add('score', dirKinds, (p) => ['-m', p, '-i', data]);
    add('pretrain', fileKinds, (p) => ['-c', p]);
    add('multitask', fileKinds, (p) => ['-c', p]);
    add('embed', dirKinds, (p) => ['-m', p, '-i', data]);
    add('cluster', dirKinds, (p) => ['-m', p, '-i', data, '-t', '0.5']);
    add('export', dirKinds, (p) => ['-m', p, '-o', path.join(root, 'export')]);
    add('export', outKinds, (p) => ['-m', model, '-o', p]);
    add('serve', dirKinds, (p) => ['-m', p, '--port', '0']);
    // The studio serves until stopped: only a workspace it cannot use reaches an end, before it listens.
    add('studio', ['a file as directory', 'under a file', 'unwritable'], (p) => ['--workspace', p, '--port', '0']);
    add('bench', dirKinds, (p) => ['-m', p, '--no-http']);
    add('init-config', outKinds, (p) => ['-t', 'text_classification', '-n', 'bow', '-o', p]);
    add('augment', fileKinds, (p) => ['-i', p, '-o', path.join(root, 'aug.txt')]);
    add('augment', outKinds, (p) => ['-i', data, '-o', p]);
    add('data-distill', fileKinds, (p) => ['-c', p]);
    const labelled = path.join(writable, 'labelled.tsv');
    add('label', dirKinds, (p) => ['-m', p, '-i', data, '-o', labelled]);
    add('label', fileKinds, (p) => ['-m', model, '-i', p, '-o', labelled]);
    add('label', outKinds, (p) => ['-m', model, '-i', data, '-o', p]);
    add('label', ['missing', 'unreadable directory'], (p) => ['--merge', p]);
    add('distill', fileKinds, (p) => ['-c', p]);
    add('data', outKinds, (p) => ['prepare', 'spam', '--out', p, '--limit', '10']);
  });

  it('covers every verb main.ts registers', () => {
    assert.ok(ALL_VERBS.length >= 17, ALL_VERBS.join(' '));
    assert.deepEqual([...new Set(cases.map((c) => c.verb))].sort(), [...ALL_VERBS].sort());
  });

  it('ends each with one `alembic: <path>: …` line and exit 2, never a stack trace', async () => {
    const started = Date.now();
    runs = await runAllAsNobody(
      cases.map((c) => c.args),
      root,
    );
    const failures = cases.flatMap((c, i) => {
      const r = runs[i];
      const ok =
        r.code === 2 &&
        !/\n\s+at /.test(r.stderr) &&
        /^alembic: .*\n$/.test(r.stderr.split('\n').at(-2) + '\n');
      return ok ? [] : [`${c.name}: exit ${r.code}\n${r.stderr.slice(0, 800)}`];
    });
    assert.deepEqual(failures, []);
    console.log(`# ${cases.length} bad-path runs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it('a directory given where a file belongs names it (dataset.train, predict --input, eval --data)', async () => {
    const named = (name: string) => runs[cases.findIndex((c) => c.name === name)];
    for (const name of ['predict directory', 'eval directory']) {
      assert.equal(named(name).stderr, `alembic: ${bad.directory}: is a directory, expected a file\n`, name);
    }
    assert.match(
      named('train dataset.train a directory').stderr,
      /a-dir: is a directory, expected a file\n$/,
    );
    // The same as real processes: the boundary in main.ts, not the harness, makes these one line.
    const real = await Promise.all([
      alembicAsNobody(['predict', '-m', model, '-i', bad.directory], root),
      alembicAsNobody(['eval', '-m', model, '-d', bad.unreadable], root),
    ]);
    assert.equal(real[0].stderr, `alembic: ${bad.directory}: is a directory, expected a file\n`);
    assert.equal(real[1].stderr, `alembic: ${bad.unreadable}: permission denied\n`);
    for (const r of real) assert.equal(r.code, 2);
  });

  it('`alembic serve` without --model says what to give', async () => {
    const r = await alembicAsNobody(['serve', '--port', '0'], root);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^alembic: serve: give at least one --model/);
  });
});
