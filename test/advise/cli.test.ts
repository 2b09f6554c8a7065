import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/run-config.js';
import { interviewSpec, parseAnswer, parseLabels, type Prompter } from '../../src/advise/interview.js';
import { tempDir } from '../helpers/tiny-data.js';

const ROOT = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const BIN = path.join(ROOT, 'bin', 'alembic.js');
const EXAMPLES = path.join(ROOT, 'examples', 'advise');
const SENTIMENT = path.join(EXAMPLES, 'sentiment-zh-qps2000-cpu.json');
const NER = path.join(EXAMPLES, 'ner-zh.json');
const RELATIONS = path.join(EXAMPLES, 'entity-relation-zh.json');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function alembic(args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'advise', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Runs shared by several tests (each spawn loads the whole CLI, so they are not repeated). */
const shared = (() => {
  const dir = tempDir('alembic-advise-cli-');
  const data = path.join(dir, 'my-data', 'train.tsv');
  const configs = path.join(dir, 'configs');
  const pipelineConfigs = path.join(dir, 'pipeline');
  let runs: Promise<{ sentimentJson: Run; relationsText: Run; nerText: Run }> | undefined;
  return {
    data,
    configs,
    pipelineConfigs,
    runs: () =>
      (runs ??= Promise.all([
        alembic(['--spec', SENTIMENT, '--json', '--write-config', configs, '--data', data]),
        alembic(['--spec', RELATIONS, '--write-config', pipelineConfigs]),
        alembic(['--spec', NER]),
      ]).then(([sentimentJson, relationsText, nerText]) => ({ sentimentJson, relationsText, nerText }))),
  };
})();

test('plain text advice for the example specs', async () => {
  const { relationsText, nerText } = await shared.runs();
  for (const r of [relationsText, nerText]) assert.equal(r.code, 0, r.stderr);
  assert.match(nerText.stdout, /^Advice for "address-ner-zh"/);
  assert.match(nerText.stdout, /1\. Transformer tiny \(pretrained, models\/zh-tiny\)/);
  assert.match(nerText.stdout, /Left out: bow \(not trained: task-nets\)/);
  assert.match(
    nerText.stdout,
    /Teacher: Transformer base \(pretrained, models\/zh-base\) → model distillation/,
  );
  assert.match(relationsText.stdout, /STEP 1: entity recognition/);
  assert.match(relationsText.stdout, /STEP 2: relation classification/);
});

test('--json prints the advice as data', async () => {
  const r = (await shared.runs()).sentimentJson;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out), ['advice', 'configs']);
  const step = out.advice.steps[0];
  assert.equal(out.advice.name, 'review-sentiment-zh');
  // QPS 2,000 on CPU: a distilled CNN first, the base Transformer only as its teacher (guide §4.1, §6.3).
  assert.deepEqual(
    step.scheme.serve.map((c: { id: string }) => c.id),
    ['cnn', 'bow', 'gru', 'lstm'],
  );
  assert.equal(step.scheme.teacher.id, 'transformer-base');
  assert.equal(step.scheme.distillation.method, 'data');
  assert.equal(step.metric, 'accuracy');
  // 3,000 labelled + 200,000 unlabelled texts the teacher labels (guide §6.3).
  assert.equal(step.serve.trainExamples, 203_000);
});

test('--write-config writes configs that `alembic train --config` accepts', async () => {
  const r = (await shared.runs()).sentimentJson;
  assert.equal(r.code, 0, r.stderr);
  const { configs, data } = shared;
  const files = JSON.parse(r.stdout).configs as string[];
  assert.deepEqual(readdirSync(configs).sort(), [
    'review-sentiment-zh-teacher.json',
    'review-sentiment-zh.json',
  ]);
  assert.deepEqual(files.map((f) => path.basename(f)).sort(), readdirSync(configs).sort());
  const load = (name: string) =>
    parseConfig(JSON.parse(readFileSync(path.join(configs, name), 'utf8')), path.join(configs, name));
  const student = load('review-sentiment-zh.json');
  const teacher = load('review-sentiment-zh-teacher.json');
  assert.equal(student.model.net, 'cnn');
  assert.equal(student.dataset.train, data, 'data paths are relative to the config folder');
  assert.equal(student.trainer.batch_size, 128);
  assert.equal(teacher.model.net, 'transformer');
  assert.equal(teacher.model.hidden_size, 768);
  // The spec's checkpoint path is relative to the spec; the config's is rebased to the config folder.
  assert.equal(teacher.model.pretrained_dir, path.join(EXAMPLES, 'models', 'zh-base'));
  assert.equal(teacher.dataset.tokenizer.type, 'wordpiece');

  const again = await alembic(['--spec', SENTIMENT, '--write-config', configs]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists \(use --force to overwrite\)/);
});

test('--write-config writes one config per pipeline step, with placeholder data paths', async () => {
  const r = (await shared.runs()).relationsText;
  assert.equal(r.code, 0, r.stderr);
  const dir = shared.pipelineConfigs;
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, [
    'company-relations-zh-1-sequence-labeling.json',
    'company-relations-zh-2-text-classification.json',
  ]);
  const parsed = files.map((f) =>
    parseConfig(JSON.parse(readFileSync(path.join(dir, f), 'utf8')), path.join(dir, f)),
  );
  assert.deepEqual(
    parsed.map((c) => c.task),
    ['sequence_labeling', 'text_classification'],
  );
  assert.equal(parsed[0].dataset.train, path.join(dir, 'data', 'step1-sequence_labeling', 'train.tsv'));
  assert.match(r.stdout, /CONFIGS\n {2}.*company-relations-zh-1-sequence-labeling\.json/);
});

test('an invalid spec exits 2 naming the field path', async () => {
  const dir = tempDir('alembic-advise-cli-');
  const bad = path.join(dir, 'bad.json');
  writeFileSync(
    bad,
    JSON.stringify({
      input: { texts: 1 },
      output: { kind: 'one_of_k', labels: ['only'] },
      data: { labelled: 10 },
      constraints: { qsp: 100 },
    }),
  );
  const notJson = path.join(dir, 'broken.json');
  writeFileSync(notJson, '{ "input": ');
  const [r, broken, noData] = await Promise.all([
    alembic(['--spec', bad]),
    alembic(['--spec', notJson]),
    alembic(['--spec', SENTIMENT, '--measure']),
  ]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  // Every problem is named by its JSON path; the typo "qsp" is not silently dropped.
  assert.match(r.stderr, /^alembic: .*bad\.json: constraints\.qsp: is not a known field; check the spelling/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /broken\.json: not valid JSON/);
  assert.equal(noData.code, 2);
  assert.match(noData.stderr, /--measure needs --data/);
});

test('--interactive asks the questions and takes piped answers', async () => {
  const dir = tempDir('alembic-advise-cli-');
  const saved = path.join(dir, 'spec.json');
  const answers = [
    'ticket-topics', // name
    '1', // texts per example
    'en', // language
    '12', // average length
    '1', // output kind: 1 = one_of_k
    'billing=900, outage=700, other=400', // labels with counts
    '2000', // labelled
    '', // unlabelled: default 0
    '50', // QPS
    '', // latency
    '', // iteration hours
    'macro_f1', // metric
    '0.8', // target
    'cpu', // training device
    '', // training machines
    '', // serving device
    '3', // serving machines
    'n', // budget pays for GPUs
    '', // pretrained tiny
    '', // pretrained base
    '', // pretrained large
  ];
  const r = await alembic(['--interactive', '--save-spec', saved, '--json'], answers.join('\n') + '\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /What should the model output\?/);
  assert.match(r.stderr, /Serving machines \[1\]: 3/);
  const spec = JSON.parse(readFileSync(saved, 'utf8'));
  assert.deepEqual(spec, {
    name: 'ticket-topics',
    input: { texts: 1, language: 'en', avg_length: 12 },
    output: { kind: 'one_of_k', labels: { billing: 900, outage: 700, other: 400 } },
    data: { labelled: 2000, unlabelled: 0 },
    constraints: { qps: 50, accuracy: { metric: 'macro_f1', target: 0.8 } },
    hardware: { training: { device: 'cpu', machines: 1 }, serving: { device: 'cpu', machines: 3 } },
    budget: { gpu_allowed: false },
  });
  const advice = JSON.parse(r.stdout).advice;
  assert.equal(advice.name, 'ticket-topics');
  assert.equal(advice.steps[0].metric, 'macro_f1');
  assert.equal(advice.spec.hardware.serving.machines, 3);
});

test('--interactive keeps a spec file’s values on Enter, and stops cleanly when the input ends', async () => {
  const blanks = '\n'.repeat(40);
  const [kept, ended, { sentimentJson: plain }] = await Promise.all([
    alembic(['--spec', SENTIMENT, '--interactive', '--json'], blanks),
    alembic(['--interactive'], 'half-done\n1\n'),
    shared.runs(),
  ]);
  assert.equal(kept.code, 0, kept.stderr);
  const a = JSON.parse(kept.stdout).advice;
  const b = JSON.parse(plain.stdout).advice;
  assert.deepEqual(a.spec, b.spec);
  assert.deepEqual(a.steps, b.steps);
  assert.equal(ended.code, 2);
  assert.match(ended.stderr, /the input ended before "input\.language" was answered/);
});

test('answers are parsed and checked one by one', async () => {
  assert.deepEqual(parseLabels('a, b，c'), ['a', 'b', 'c']);
  assert.deepEqual(parseLabels('pos=1200, neg=800'), { pos: 1200, neg: 800 });
  assert.deepEqual(parseLabels('pos=1200, neg'), { error: 'give counts for every label or for none' });
  assert.equal(parseAnswer({ kind: 'int', min: 1 }, '3,000'), 3000);
  assert.deepEqual(parseAnswer({ kind: 'int', min: 1 }, '2.5'), { error: '"2.5" is not a whole number' });
  assert.deepEqual(parseAnswer({ kind: 'int', min: 1 }, '0'), { error: 'must be at least 1' });
  assert.equal(parseAnswer({ kind: 'yesno' }, 'Y'), true);
  const kinds = ['a', 'b', 'c', 'd'];
  assert.equal(parseAnswer({ kind: { choices: kinds } }, '4', kinds), 'd');
  assert.equal(parseAnswer({ kind: { choices: kinds } }, 'b', kinds), 'b');

  // A wrong answer is explained and asked again; a question that no longer applies is dropped.
  const said: string[] = [];
  const queue = ['', 'x', '1', 'zh', '', '1', 'a, b', '100', ...Array(20).fill('')];
  const p: Prompter = { ask: async () => queue.shift(), say: (l) => said.push(l) };
  const spec = await interviewSpec(p, {
    input: { texts: 2, passage_question: true },
    output: { kind: 'passage_span' },
    data: { labelled: 50 },
  });
  assert.ok(said.some((l) => l.includes('input.texts: "x" is not a whole number')));
  assert.deepEqual(spec.input, { texts: 1, language: 'zh' });
  assert.deepEqual(spec.output, { kind: 'one_of_k', labels: ['a', 'b'] });
  assert.deepEqual(spec.data, { labelled: 100, unlabelled: 0 });
});
