import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  pipelineMetrics,
  predictWithPipeline,
  relationInput,
  type PipelineOutput,
} from '../../src/deploy/prediction-pipeline.js';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

test('relationInput marks the pair in the text, or pairs "head [SEP] tail" with it', () => {
  const text = '张三在华为工作';
  const head = { start: 0, end: 2, text: '张三' };
  const tail = { start: 3, end: 5, text: '华为' };
  assert.deepEqual(relationInput(text, head, tail), { text: '<e1>张三</e1>在<e2>华为</e2>工作' });
  assert.deepEqual(relationInput(text, tail, head), { text: '<e2>张三</e2>在<e1>华为</e1>工作' });
  // Adjacent entities: the closing marker comes before the next opening one.
  assert.deepEqual(relationInput('张三华为', head, { start: 2, end: 4, text: '华为' }), {
    text: '<e1>张三</e1><e2>华为</e2>',
  });
  assert.deepEqual(relationInput(text, head, tail, 'pair'), { text: '张三 [SEP] 华为', textB: text });
});

test('pipeline metrics: triples must match exactly; records without gold are not counted', () => {
  const out = (relations: PipelineOutput['relations']): PipelineOutput => ({
    text: '',
    entities: [],
    relations,
    labels: {},
  });
  const m = pipelineMetrics(
    [
      {
        text: 'a',
        gold: {
          relations: [
            { head: 'A', relation: 'r', tail: 'B' },
            { head: 'C', relation: 'r', tail: 'D' },
          ],
        },
      },
      { text: 'b', gold: { relations: [] } },
      { text: 'c' },
    ],
    [
      out([
        { head: 'A', relation: 'r', tail: 'B' },
        { head: 'D', relation: 'r', tail: 'C' },
      ]),
      out([{ head: 'E', relation: 'r', tail: 'F' }]),
      out([{ head: 'G', relation: 'r', tail: 'H' }]),
    ],
  );
  // 1 correct of 3 predicted (records with gold), 2 gold: P 1/3, R 1/2, F1 2·1/(2·1+2+1) = 0.4.
  assert.deepEqual(m.relations, {
    precision: 1 / 3,
    recall: 0.5,
    f1: 0.4,
    gold: 2,
    predicted: 3,
    correct: 1,
  });
  assert.equal(m.entities, undefined);
});

const PEOPLE = ['张三', '李四', '王五', '赵六', '孙七'];
const ORGS = ['华为', '腾讯', '百度', '京东'];
/** Templates: who and where, the words between them decide the relation (NA: none). */
const TEMPLATES: { parts: string[]; relation: string }[] = [
  { parts: ['P', '在', 'O', '工作'], relation: '就职' },
  { parts: ['P', '创办了', 'O'], relation: '创办' },
  { parts: ['P', '参观了', 'O'], relation: 'NA' },
  { parts: ['P', '和', 'Q', '去了', 'O'], relation: 'NA' },
];

interface Sentence {
  text: string;
  entities: { text: string; type: string; start: number; end: number }[];
  relations: { head: string; relation: string; tail: string }[];
}

function sentence(rng: Rng): Sentence {
  const t = TEMPLATES[rng.int(TEMPLATES.length)];
  const p = PEOPLE[rng.int(PEOPLE.length)];
  const q = PEOPLE.filter((x) => x !== p)[rng.int(PEOPLE.length - 1)];
  const o = ORGS[rng.int(ORGS.length)];
  let text = rng.next() < 0.5 ? '去年' : '';
  const entities: Sentence['entities'] = [];
  for (const part of t.parts) {
    const value = part === 'P' ? p : part === 'Q' ? q : part === 'O' ? o : part;
    if (part === 'P' || part === 'Q' || part === 'O')
      entities.push({
        text: value,
        type: part === 'O' ? 'ORG' : 'PER',
        start: text.length,
        end: text.length + value.length,
      });
    text += value;
  }
  return {
    text,
    entities,
    relations: t.relation === 'NA' ? [] : [{ head: p, relation: t.relation, tail: o }],
  };
}

function nerLine(s: Sentence): string {
  const tags = [...s.text].map(() => 'O');
  for (const e of s.entities)
    for (let i = e.start; i < e.end; i++) tags[i] = `${i === e.start ? 'B' : 'I'}-${e.type}`;
  return `${[...s.text].join(' ')}\t${tags.join(' ')}`;
}

function relationLines(s: Sentence): string[] {
  return s.entities.flatMap((h) =>
    s.entities
      .filter((t) => t !== h)
      .map((t) => {
        const gold = s.relations.find((r) => r.head === h.text && r.tail === t.text);
        return `${relationInput(s.text, h, t).text}\t${gold?.relation ?? 'NA'}`;
      }),
  );
}

async function trainModel(dir: string, name: string, task: string, lines: string[]): Promise<string> {
  writeFileSync(path.join(dir, `${name}.tsv`), lines.join('\n') + '\n');
  const c = parseConfig(
    {
      task,
      dataset: { train: `${name}.tsv`, max_len: 48 },
      model: { net: 'gru', embedding_dim: 32, hidden_size: 32 },
      trainer: { epochs: 6, batch_size: 16, learning_rate: 0.01, threads: 1, output_dir: name },
    },
    path.join(dir, `${name}.json`),
  );
  await train(c, { quiet: true, log: () => {} });
  return path.join(dir, name, 'best');
}

test('entity-relation pipeline: NER → relation classifier, end to end on generated data (library and CLI)', async () => {
  const dir = tempDir();
  const rng = new Rng(11);
  const trainSet = Array.from({ length: 240 }, () => sentence(rng));
  const testSet = Array.from({ length: 40 }, () => sentence(rng));
  const ner = await trainModel(dir, 'ner', 'sequence_labeling', trainSet.map(nerLine));
  const rel = await trainModel(dir, 'rel', 'text_classification', trainSet.flatMap(relationLines));
  const pipelineFile = path.join(dir, 'pipeline.json');
  writeFileSync(
    pipelineFile,
    JSON.stringify({
      steps: [
        { name: 'ner', kind: 'entities', model: path.relative(dir, ner) },
        { name: 'rel', kind: 'relations', model: rel, entities: 'ner', type_pairs: [['PER', 'ORG']] },
      ],
    }),
  );
  const input = path.join(dir, 'test.jsonl');
  writeFileSync(
    input,
    testSet
      .map((s) =>
        JSON.stringify({
          text: s.text,
          entities: s.entities.map(({ text, type }) => ({ text, type })),
          relations: s.relations,
        }),
      )
      .join('\n') + '\n',
  );
  let written = '';
  const metrics = await predictWithPipeline(
    pipelineFile,
    input,
    16,
    (s) => (written += s),
    () => {},
  );
  assert.ok(metrics.entities!.f1 >= 0.9, `entity F1 ${metrics.entities!.f1}`);
  assert.ok(metrics.relations!.f1 >= 0.8, `triple F1 ${metrics.relations!.f1}`);
  assert.ok(metrics.relations!.gold > 10);
  const outputs = written
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PipelineOutput);
  assert.equal(outputs.length, testSet.length);
  const hit = outputs.find((o, i) => testSet[i].relations.length > 0 && o.relations.length > 0)!;
  assert.equal(hit.relations[0].head_type, 'PER');
  assert.equal(hit.entities[0].text, hit.text.slice(hit.entities[0].start, hit.entities[0].end));

  // The CLI: plain text lines in, JSON lines out.
  writeFileSync(path.join(dir, 'plain.txt'), '王五创办了京东\n李四参观了华为\n');
  const r = spawnSync(
    'node',
    [
      path.resolve('bin/alembic.js'),
      'predict',
      '--pipeline',
      pipelineFile,
      '-i',
      path.join(dir, 'plain.txt'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const [a, b] = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PipelineOutput);
  assert.deepEqual(
    a.relations.map(({ head, relation, tail }) => [head, relation, tail]),
    [['王五', '创办', '京东']],
  );
  assert.deepEqual(b.relations, []);
  assert.deepEqual(
    b.entities.map((e) => `${e.type}:${e.text}`),
    ['PER:李四', 'ORG:华为'],
  );
});
