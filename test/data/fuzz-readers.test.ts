/**
 * Property-based fuzzing (fast-check) of every data reader, the config and label-map loaders and the
 * service's request-body parser: random bytes, truncations and mutations of a valid file. The only allowed
 * outcomes are success or a UserError (RequestError for the service) — never another exception, a hang, or
 * a NaN (or a number a float32 tensor cannot hold) among parsed numeric features. Seeded and bounded
 * (numRuns) so it runs in seconds; a failure prints the seed and the shrunk input to replay it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { readClassificationFile } from '../../src/data/readers/classification.js';
import { readGenerationFile, readLanguageModelText } from '../../src/data/readers/generation.js';
import { LabelMap } from '../../src/data/readers/label-map.js';
import { readMatchingFile } from '../../src/data/readers/matching.js';
import { readReadingComprehensionJson } from '../../src/data/readers/reading-comprehension.js';
import { readSequenceFile } from '../../src/data/readers/sequence.js';
import { parsePredictBody, RequestError } from '../../src/deploy/serve/request-body.js';
import { parseSpec } from '../../src/advise/spec.js';
import { loadDataDistillConfig } from '../../src/distill/data/data-distill-config.js';
import { loadDistillConfig } from '../../src/distill/model/model-distill-config.js';
import { loadMultitaskConfig } from '../../src/train/multitask-training.js';
import { loadConfig } from '../../src/config/run-config.js';
import { readJsonFile } from '../../src/util/json-file.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-fuzz-');
const NUM_RUNS = 300;
/** A reader that takes longer than this on a file of a few hundred bytes counts as hung. */
const TIMEOUT_MS = 5_000;

/** Pieces that often break parsers: separators, line ends, a BOM, numbers at the edges, bad UTF-8. */
const SPECIAL = [
  '\t',
  '\n',
  '\r\n',
  '\r',
  '\uFEFF',
  ' ',
  '',
  '"',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '\\',
  'NaN',
  'Infinity',
  '-1',
  '1e999',
  '1e39',
  '-3.5e38',
  '0x10',
  '1_000',
  'null',
  'true',
  '__proto__',
  'constructor',
  '\u0000',
  '😀',
  '标签',
].map((s) => Buffer.from(s, 'utf8'));
/** Numbers at and past the edges of what a float32 feature tensor holds. */
const NUMBERS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e39',
  '-3.5e38',
  '3.4e38',
  '1e999',
  '5e-324',
  '-0',
  ' 7 ',
].map((s) => Buffer.from(s, 'utf8'));
const BAD_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe4, 0xb8]), Buffer.from([0x80])];

type Edit = { at: number; del: number; insert: Buffer };

const editArb: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat(),
  del: fc.nat({ max: 4 }),
  insert: fc.oneof(
    fc.constantFrom(...SPECIAL, ...BAD_UTF8),
    fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b)),
  ),
});

/** Random bytes, a truncation, a few byte edits of `valid`, or one of its fields replaced by a special. */
function fileArb(valid: string): fc.Arbitrary<Buffer> {
  const bytes = Buffer.from(valid, 'utf8');
  const fields = valid.split(/(\t|\n|"|,|:)/);
  return fc.oneof(
    {
      // Whole fields swapped for specials find what byte edits rarely build (a number out of range).
      weight: 4,
      arbitrary: fc
        .array(
          fc.record({
            i: fc.nat(),
            with: fc.oneof(fc.constantFrom(...NUMBERS), fc.constantFrom(...SPECIAL)),
          }),
          {
            minLength: 1,
            maxLength: 2,
          },
        )
        .map((swaps) => {
          const parts = fields.map((f) => Buffer.from(f, 'utf8'));
          for (const { i, with: w } of swaps) parts[i % parts.length] = w;
          return Buffer.concat(parts);
        }),
    },
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.nat({ max: bytes.length }).map((n) => bytes.subarray(0, n)),
    fc.array(editArb, { minLength: 1, maxLength: 5 }).map((edits) => {
      let b = bytes;
      for (const e of edits) {
        const at = e.at % (b.length + 1);
        b = Buffer.concat([b.subarray(0, at), e.insert, b.subarray(Math.min(b.length, at + e.del))]);
      }
      return b;
    }),
  );
}

let counter = 0;

/** Success or a UserError, within TIMEOUT_MS; `check` looks at what a successful read returned. */
async function outcome<T>(read: () => Promise<T> | T, check?: (result: T) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms (a hang)`)), TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(read), hang]);
    check?.(result);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    // One line per problem (a config lists its first few invalid fields, one per line), never a stack.
    assert.doesNotMatch(e.message, /\n\s+at |^\s*$/m, e.message);
  } finally {
    clearTimeout(timer);
  }
}

function fuzzFile<T>(
  name: string,
  valid: string,
  read: (file: string) => Promise<T> | T,
  check?: (result: T) => void,
): void {
  test(`fuzz: ${name}`, async () => {
    await fc.assert(
      fc.asyncProperty(fileArb(valid), async (bytes) => {
        const file = path.join(dir, `${name.replace(/\W+/g, '-')}-${counter++}`);
        writeFileSync(file, bytes);
        await outcome(() => read(file), check);
      }),
      { numRuns: NUM_RUNS, seed: 18 },
    );
  });
}

/** A float32 tensor holds it as a finite number. */
function assertFloat32(v: unknown, where: string): void {
  assert.equal(typeof v, 'number', where);
  assert.ok(Number.isFinite(Math.fround(v as number)), `${where}: ${String(v)} is not a finite float32`);
}

fuzzFile('classification', 'text\tlabel\n这个 酒店 很好\t正面\n房间 差\t负面\n', (f) =>
  readClassificationFile(f),
);
fuzzFile('pair classification', '今天 天气\t天气 很好\tyes\n明天\t下雨\tno\n', (f) =>
  readClassificationFile(f, { kind: 'pair' }),
);
fuzzFile('multi-label classification', '价格 便宜 服务 好\tprice service\n太 贵\tprice\n', (f) =>
  readClassificationFile(f, { kind: 'multi_label' }),
);
fuzzFile(
  'numeric features',
  'text\tlabel\tclicks\tage\n很好\t正面\t3\t20.5\n很差\t负面\t-1e3\t0.25\n',
  (f) => readClassificationFile(f, { numericFeatures: ['clicks', 'age'] }),
  (r) => {
    for (const e of r.examples) {
      for (const name of ['clicks', 'age']) assertFloat32(e.features?.[name], `line ${e.line}: ${name}`);
    }
  },
);
fuzzFile('sequence labelling', '我 爱 北京\tO O B-LOC\n天安门 很 大\tB-LOC O O\n', (f) => readSequenceFile(f));
fuzzFile('matching (pointwise)', '怎么 还款\t如何 还钱\t1\n怎么 还款\t今天 天气\t0\n', (f) =>
  readMatchingFile(f),
);
fuzzFile('matching (pairwise)', '怎么 还款\t如何 还钱\t今天 天气\n开户\t办卡\t吃饭\n', (f) =>
  readMatchingFile(f),
);
fuzzFile('generation', '你好 世界\thello world\n谢谢\tthanks\n', (f) => readGenerationFile(f));
fuzzFile('language-model text', '床前明月光\n疑是地上霜\n', (f) => readLanguageModelText(f));
fuzzFile(
  'SQuAD JSON',
  JSON.stringify({
    data: [
      {
        title: 't',
        paragraphs: [
          {
            context: '北京是中国的首都。',
            qas: [{ id: 'q1', question: '首都是哪里？', answers: [{ text: '北京', answer_start: 0 }] }],
          },
        ],
      },
    ],
  }),
  (f) => readReadingComprehensionJson(f),
);
fuzzFile('label map', '{"正面": 0, "负面": 1, "中性": 2}', (f) => LabelMap.load(f));

const trainFile = path.join(dir, 'train.tsv');
writeFileSync(trainFile, '很好\t正面\n很差\t负面\n');
fuzzFile(
  'training config',
  JSON.stringify({
    task: 'text_classification',
    dataset: { train: trainFile, max_len: 32, numeric_features: ['clicks'] },
    model: { net: 'cnn', embedding_dim: 16, kernel_widths: [2, 3] },
    trainer: { epochs: 2, batch_size: 8, learning_rate: 0.001, output_dir: path.join(dir, 'run') },
  }),
  (f) => loadConfig(f),
);

const example = (name: string) => readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8');
fuzzFile('distill config', example('distill/sentiment-zh.json'), (f) => loadDistillConfig(f));
fuzzFile('data-distill config', example('data-distill/data-distill.json'), (f) => loadDataDistillConfig(f));
fuzzFile('advise spec', example('advise/ner-zh.json'), (f) => parseSpec(readJsonFile(f, 'spec'), f));
fuzzFile(
  'multitask config',
  JSON.stringify({
    dataset: { max_len: 32 },
    model: { net: 'bow', embedding_dim: 16 },
    trainer: { epochs: 1, output_dir: path.join(dir, 'mt') },
    tasks: [
      { name: 'sentiment', task: 'text_classification', train: trainFile },
      { name: 'ner', task: 'sequence_labeling', train: trainFile },
    ],
  }),
  (f) => loadMultitaskConfig(f),
);

test('fuzz: the service request body (parsed JSON and mutations of valid bodies)', async () => {
  const limits = { maxInputs: 8, maxTextChars: 50 };
  const valid = ['{"texts": ["很好", "太差了"]}', '{"pairs": [["a", "b"], ["c", "d"]]}'];
  const bodies = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(...valid).chain((v) =>
      fileArb(v).map((b) => {
        try {
          return JSON.parse(b.toString('utf8')) as unknown;
        } catch {
          return b.toString('utf8'); // not JSON: fastify refuses it before the parser; a string here
        }
      }),
    ),
  );
  fc.assert(
    fc.property(bodies, fc.constantFrom('text_classification', 'text_matching'), (body, task) => {
      try {
        const inputs = parsePredictBody(body, task, limits);
        assert.ok(inputs.length >= 1 && inputs.length <= limits.maxInputs);
        for (const x of inputs) {
          assert.equal(typeof x.text, 'string');
          if (task === 'text_matching') assert.equal(typeof x.textB, 'string');
        }
      } catch (e) {
        if (!(e instanceof RequestError)) throw e;
        assert.ok(e.statusCode === 400 || e.statusCode === 413);
      }
    }),
    { numRuns: NUM_RUNS * 4, seed: 18 },
  );
});
