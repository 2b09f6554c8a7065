import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adviseFromSpec, type Advice } from '../../src/advise/advise.js';
import { adviceToConfig } from '../../src/advise/config-writer.js';
import { batchSizeFor, maxLenFor, stepIntervals } from '../../src/advise/hyperparams.js';
import { makeCandidate, type CandidateId } from '../../src/advise/candidates.js';
import { renderAdvice } from '../../src/advise/render.js';
import {
  baselineSubset,
  factsFor,
  gpuServingCost,
  iterationWithPretrained,
  labelCoverage,
  metricFirst,
  multiGpu,
  qpsAbove100,
  qpsAbove1000,
  qpsModest,
  taskNets,
  transformerTrainingDevice,
  type Facts,
  type Rule,
} from '../../src/advise/rules.js';
import { parseSpec } from '../../src/advise/spec.js';
import { cpuEpochSeconds } from '../../src/advise/cpu-training-time.js';
import { planTasks } from '../../src/advise/task-mapping.js';
import { UserError } from '../../src/util/errors.js';

/** A Chinese two-class problem with plenty of data, a GPU to train on, a CPU to serve on, a base checkpoint. */
const BASE = {
  input: { texts: 1, avg_length: 40 },
  output: { kind: 'one_of_k', labels: ['neg', 'pos'] },
  data: { labelled: 20_000 },
  constraints: { accuracy: { metric: 'accuracy' } },
  hardware: { training: { device: 'gpu' } },
  pretrained: { base: 'ckpt/base' },
};

type Json = Record<string, unknown>;

/** BASE with `patch` merged in; `output` and `pretrained` are replaced whole, other objects merge. */
function spec(patch: Json = {}, base: Json = BASE): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const old = out[k];
    const merge =
      k !== 'output' &&
      k !== 'pretrained' &&
      [v, old].every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
    out[k] = merge ? spec(v as Json, old as Json) : v;
  }
  return out;
}

function facts(patch: Json = {}, stepIndex = 0): Facts {
  const s = parseSpec(spec(patch), 'spec.json');
  const plan = planTasks(s);
  return factsFor(s, plan.steps[stepIndex], plan.steps.length);
}

function fires(rule: Rule, patch: Json): boolean {
  return rule.evaluate(facts(patch)).length > 0;
}

function advise(patch: Json = {}): Advice {
  return adviseFromSpec(spec(patch), 'spec.json');
}

const served = (a: Advice, step = 0): CandidateId[] => a.steps[step].scheme.serve.map((c) => c.id);

// ---- Task abstraction (guide §2) ----

test('each output kind maps to its typical task or pipeline (guide §2.1, §2.2)', () => {
  const cases: [Json, Json, string[]][] = [
    [{ texts: 1 }, { kind: 'one_of_k', labels: ['a', 'b'] }, ['text_classification']],
    [{ texts: 2 }, { kind: 'one_of_k', labels: ['a', 'b'] }, ['text_pair_classification']],
    [{ texts: 1 }, { kind: 'independent_labels', labels: ['a', 'b'] }, ['multi_label_classification']],
    [{ texts: 2 }, { kind: 'pair_score' }, ['text_matching']],
    [{ texts: 1 }, { kind: 'token_tags', labels: ['LOC'] }, ['sequence_labeling']],
    [{ texts: 2, passage_question: true }, { kind: 'passage_span' }, ['reading_comprehension']],
    [{ texts: 1 }, { kind: 'free_text' }, ['text_generation']],
    [{ texts: 1 }, { kind: 'likelihood' }, ['language_model']],
    [
      { texts: 1 },
      { kind: 'entity_relation', entity_types: ['P'], relation_types: ['r'] },
      ['sequence_labeling', 'text_classification'],
    ],
    [{ texts: 5 }, { kind: 'ranking' }, ['text_matching']],
    [{ texts: 5 }, { kind: 'ranking', query: false }, ['text_classification']],
    [{ texts: 1 }, { kind: 'error_correction' }, ['language_model', 'text_generation']],
    [{ texts: 1 }, { kind: 'keywords', labels: ['price', 'service'] }, ['multi_label_classification']],
    [{ texts: 1 }, { kind: 'keywords' }, ['sequence_labeling']],
    [{ texts: 1 }, { kind: 'clusters' }, ['text_matching']],
  ];
  for (const [input, output, tasks] of cases) {
    const plan = planTasks(parseSpec(spec({ input, output }), 's.json'));
    assert.deepEqual(
      plan.steps.map((s) => s.task),
      tasks,
      JSON.stringify(output),
    );
  }
});

test('numeric features make mixed-feature classification (guide §2.1.1d)', () => {
  const plan = planTasks(parseSpec(spec({ input: { numeric_features: ['ctr', 'position'] } }), 's.json'));
  assert.equal(plan.steps[0].typical.key, 'mixed_feature_classification');
  assert.equal(plan.steps[0].task, 'text_classification');
  assert.deepEqual(plan.steps[0].numericFeatures, ['ctr', 'position']);
  assert.match(plan.notes[0].text, /numeric/i);
});

test('entity-relation is NER then relation classification, with a no_relation class (guide §2.2.2a)', () => {
  const out = {
    kind: 'entity_relation',
    entity_types: ['PER', 'ORG'],
    relation_types: ['works_for', 'founded'],
  };
  const plan = planTasks(parseSpec(spec({ output: out }), 's.json'));
  assert.equal(plan.kind, 'pipeline');
  assert.deepEqual(plan.steps[0].labels?.names, ['PER', 'ORG']);
  assert.deepEqual(plan.steps[1].labels?.names, ['works_for', 'founded', 'no_relation']);
  assert.equal(plan.steps[1].after, 0);
  assert.match(plan.notes[0].text, /relation/i);
});

test('several outputs: one model each, easiest first, pipelines kept in order (guide §2.1.7, §2.2.1)', () => {
  const output = [
    { kind: 'free_text' },
    { kind: 'entity_relation', entity_types: ['P'], relation_types: ['r'] },
    { kind: 'one_of_k', labels: ['a', 'b'] },
  ];
  const plan = planTasks(parseSpec(spec({ output }), 's.json'));
  assert.equal(plan.kind, 'multi_output');
  // ease: classification 1, sequence labelling 3 (the pipeline's first step), generation 4.
  assert.deepEqual(
    plan.steps.map((s) => s.task),
    ['text_classification', 'sequence_labeling', 'text_classification', 'text_generation'],
  );
  assert.equal(plan.steps[2].after, 1);
});

// ---- QPS (guide §4.1); the limits are strict: "qps > 100", "qps > 1000" ----

test('QPS bands at their boundaries: 100 | 101, 1000 | 1001', () => {
  const band = (qps: number | undefined) =>
    [qpsModest, qpsAbove100, qpsAbove1000].filter((r) => fires(r, { constraints: { qps } })).map((r) => r.id);
  assert.deepEqual(band(undefined), ['qps-modest']);
  assert.deepEqual(band(100), ['qps-modest']);
  assert.deepEqual(band(101), ['qps-above-100']);
  assert.deepEqual(band(1000), ['qps-above-100']);
  assert.deepEqual(band(1001), ['qps-above-1000']);
});

test('QPS ≤ 100: the best-quality model is served as is', () => {
  const a = advise({ constraints: { qps: 100 }, pretrained: { tiny: 't', base: 'b', large: 'l' } });
  assert.deepEqual(served(a).slice(0, 4), [
    'transformer-large',
    'transformer-base',
    'transformer-tiny',
    'lstm',
  ]);
  assert.equal(a.steps[0].scheme.distillation, undefined);
});

test('QPS 101 and 1000: tiny Transformer served, base/large only as teacher (model distillation)', () => {
  for (const qps of [101, 1000]) {
    const a = advise({ constraints: { qps }, pretrained: { tiny: 't', base: 'b', large: 'l' } });
    assert.equal(served(a)[0], 'transformer-tiny');
    assert.ok(!served(a).includes('transformer-base') && !served(a).includes('transformer-large'));
    assert.equal(a.steps[0].scheme.teacher?.id, 'transformer-large');
    assert.equal(a.steps[0].scheme.distillation?.method, 'model');
  }
});

test('QPS in (100, 1000] on one CPU machine warns that a Transformer needs a CPU cluster', () => {
  const oneMachine = qpsAbove100.evaluate(facts({ constraints: { qps: 500 } }));
  assert.deepEqual(
    oneMachine.map((o) => o.kind),
    ['recommendation', 'warning'],
  );
  assert.equal(
    oneMachine[1].recommendation,
    'QPS 500 on one CPU machine: a Transformer needs a CPU cluster (several serving machines).',
  );
  // With no GPU to train a Transformer, the cluster warning is moot.
  const cpuTraining = facts({ constraints: { qps: 500 }, hardware: { training: { device: 'cpu' } } });
  assert.equal(qpsAbove100.evaluate(cpuTraining).length, 1);
  const cluster = qpsAbove100.evaluate(
    facts({ constraints: { qps: 500 }, hardware: { serving: { machines: 4 } } }),
  );
  assert.equal(cluster.length, 1);
  assert.match(cluster[0].recommendation, /CPU cluster/);
  const gpuBudget = qpsAbove100.evaluate(facts({ constraints: { qps: 500 }, budget: { gpu_allowed: true } }));
  assert.match(gpuBudget[0].recommendation, /tiny Transformer \(ERNIE-tiny style\) on GPU/);
});

test('QPS 1001 on CPU: no Transformer is served; CNN/BOW students by data distillation', () => {
  const out = qpsAbove1000.evaluate(facts({ constraints: { qps: 1001 } }));
  assert.equal(out[1].kind, 'warning');
  assert.equal(out[1].recommendation, 'QPS 1,001 on CPU: a Transformer will not reach it.');
  const a = advise({ constraints: { qps: 2000 } });
  assert.deepEqual(served(a), ['cnn', 'bow', 'gru', 'lstm']);
  const d = a.steps[0].scheme.distillation;
  assert.equal(d?.method, 'data');
  assert.equal(d?.teacher.id, 'transformer-base');
  assert.ok(a.warnings.includes('QPS 2,000 on CPU: a Transformer will not reach it.'));
});

test('QPS > 1000 on GPU: a tiny Transformer may be served only as a distilled student', () => {
  const gpu = { constraints: { qps: 2000 }, hardware: { serving: { device: 'gpu' } } };
  const withTeacher = advise({ ...gpu, pretrained: { tiny: 't', base: 'b' } });
  assert.equal(served(withTeacher)[0], 'transformer-tiny');
  assert.equal(withTeacher.steps[0].scheme.distillation?.method, 'model');
  assert.equal(withTeacher.steps[0].scheme.serve[0].distilled, true);
  // Only a tiny checkpoint: nothing bigger to distil from, so tiny becomes the teacher of a CNN.
  const tinyOnly = advise({ ...gpu, pretrained: { tiny: 't' } });
  assert.equal(served(tinyOnly)[0], 'cnn');
  assert.ok(!served(tinyOnly).includes('transformer-tiny'));
  assert.equal(tinyOnly.steps[0].scheme.teacher?.id, 'transformer-tiny');
});

test('QPS > 1000 with no teacher possible warns what is missing', () => {
  const a = advise({ constraints: { qps: 5000 }, pretrained: {} });
  assert.equal(a.steps[0].scheme.distillation, undefined);
  assert.ok(
    a.warnings.includes(
      'No Transformer teacher can be trained here (missing: a pretrained checkpoint): the CNN learns from the labelled data alone.',
    ),
    a.warnings.join('\n'),
  );
});

// ---- Data (guide §4.5) ----

test('labels: 50 labels but 3,000 examples → weak classes (guide §4.5.4a)', () => {
  const out = labelCoverage.evaluate(
    facts({ output: { kind: 'one_of_k', num_labels: 50 }, data: { labelled: 3000 } }),
  );
  assert.equal(
    out[0].recommendation,
    '50 labels but 3,000 examples (60 per label if spread evenly): expect weak classes; aim for ≥ 200 per label, 10,000 in all.',
  );
});

test('labels: 199 per label warns, 200 does not (even spread and explicit counts)', () => {
  const even = (labelled: number) =>
    fires(labelCoverage, { output: { kind: 'one_of_k', num_labels: 50 }, data: { labelled } });
  assert.equal(even(9_950), true); // 199 per label
  assert.equal(even(9_999), true); // 199.98 per label
  assert.equal(even(10_000), false); // 200 per label
  const counted = (a: number) =>
    labelCoverage.evaluate(
      facts({ output: { kind: 'one_of_k', labels: { a, b: 500 } }, data: { labelled: a + 500 } }),
    );
  assert.equal(
    counted(199)[0].recommendation,
    '1 of 2 labels have fewer than 200 examples: a (199): expect these classes to be weak; label more.',
  );
  assert.equal(counted(200).length, 0);
});

test('labels: the rule covers classification and sequence labelling, not matching or generation', () => {
  const few = { data: { labelled: 100 } };
  assert.equal(fires(labelCoverage, { ...few, output: { kind: 'token_tags', labels: ['LOC'] } }), true);
  assert.equal(fires(labelCoverage, { ...few, output: { kind: 'independent_labels', labels: ['a'] } }), true);
  assert.equal(fires(labelCoverage, { ...few, input: { texts: 2 }, output: { kind: 'pair_score' } }), false);
  assert.equal(fires(labelCoverage, { ...few, output: { kind: 'free_text' } }), false);
});

test('pretrained Transformer: 999 examples warn, 1,000 do not (guide §4.5.3)', () => {
  const warned = (labelled: number) =>
    advise({ data: { labelled }, output: { kind: 'one_of_k', num_labels: 2 } }).steps[0].outcomes.some(
      (o) => o.rule === 'pretrained-data-range',
    );
  assert.equal(warned(999), true);
  assert.equal(warned(1_000), false);
});

test('pretrained Transformer on millions of examples: sample 100,000 unless GPUs are ample (guide §4.5.3a)', () => {
  const a = advise({ data: { labelled: 1_000_000 } });
  const rec = a.steps[0].outcomes.find((o) => o.rule === 'pretrained-data-range');
  assert.equal(
    rec?.recommendation,
    'Fine-tune the Transformer base (pretrained, ckpt/base) on a sample of 100,000, not all 1,000,000 examples.',
  );
  assert.equal(a.steps[0].serve.trainExamples, 100_000);
  const ample = advise({ data: { labelled: 1_000_000 }, hardware: { training: { gpus: 4 } } });
  assert.ok(!ample.steps[0].outcomes.some((o) => o.rule === 'pretrained-data-range'));
  assert.equal(ample.steps[0].serve.trainExamples, 1_000_000);
  assert.equal(advise({ data: { labelled: 999_999 } }).steps[0].serve.trainExamples, 999_999);
});

test('non-pretrained nets: 9,999 examples warn, 10,000 do not (guide §4.5.2)', () => {
  const warning = (labelled: number) =>
    advise({ data: { labelled }, pretrained: {} }).warnings.find((w) => w.includes('non-pretrained'));
  assert.equal(
    warning(9_999),
    '9,999 labelled examples for a non-pretrained LSTM: expect weak results; label more, or let a pretrained Transformer teacher label unlabelled text (data distillation; needs a pretrained checkpoint).',
  );
  assert.equal(warning(10_000), undefined);
  // On CPU a base checkpoint fine-tunes in ~34 min per epoch on 5,000 short texts: it is served, no warning.
  const cpuOnly = advise({
    data: { labelled: 5000, unlabelled: 80_000 },
    hardware: { training: { device: 'cpu' } },
  });
  assert.equal(served(cpuOnly)[0], 'transformer-base');
  assert.ok(!cpuOnly.warnings.some((w) => w.includes('non-pretrained')));
});

test('too little data and unlabelled text: data distillation through a teacher (guide §6.3)', () => {
  const a = advise({ constraints: { qps: 2000 }, data: { labelled: 3000, unlabelled: 200_000 } });
  const d = a.steps[0].scheme.distillation;
  assert.deepEqual([d?.unlabelled, d?.augmented, d?.studentExamples], [200_000, 0, 203_000]);
  // The student trains on labelled + teacher-labelled text, so the small-data warning does not apply.
  assert.ok(!a.steps[0].outcomes.some((o) => o.rule === 'scratch-data-range'));
});

test('data distillation without enough unlabelled text adds augmented copies (guide §6.3.2)', () => {
  const plan = (unlabelled: number) =>
    advise({ constraints: { qps: 2000 }, data: { labelled: 3000, unlabelled } }).steps[0].scheme.distillation;
  assert.deepEqual([plan(0)?.augmented, plan(0)?.studentExamples, plan(0)?.method], [30_000, 33_000, 'data']);
  assert.deepEqual([plan(2_999)?.augmented, plan(2_999)?.studentExamples], [30_000, 35_999]);
  assert.deepEqual([plan(3_000)?.augmented, plan(3_000)?.studentExamples], [0, 6_000]);
});

test('baseline on a sample above 100,000 examples (guide §4.5.3b, §4.6.2c)', () => {
  assert.equal(fires(baselineSubset, { data: { labelled: 100_000 } }), false);
  const out = baselineSubset.evaluate(
    facts({ data: { labelled: 100_001 }, constraints: { iteration_hours: 2 } }),
  );
  assert.equal(
    out[0].recommendation,
    'Start with a baseline on ~50,000 of the 100,001 examples (each run must fit in 2 h); add the rest once the approach works.',
  );
});

test('tens of millions for a non-Transformer net: CPU cluster training (guide §4.4.1a)', () => {
  const cluster = (labelled: number) =>
    advise({
      data: { labelled },
      pretrained: {},
      hardware: { training: { device: 'cpu' } },
    }).steps[0].outcomes.some((o) => o.rule === 'cpu-cluster-training');
  assert.equal(cluster(9_999_999), false);
  assert.equal(cluster(10_000_000), true);
});

// ---- Hardware and training (guide §4.3, §4.4) ----

test('CPU-only training: base/large Transformers are out only when their estimated epochs exceed the run budget', () => {
  const cpu = advise({ hardware: { training: { device: 'cpu' } } });
  const warning = cpu.warnings.find((w) => w.startsWith('Training on CPU only:'));
  assert.ok(warning, 'a CPU-training warning');
  assert.doesNotMatch(warning, /Transformers are out/);
  // An estimate per size, and tiny ones / distilled students stated to be fine.
  assert.match(
    warning,
    /time per epoch on [\d,]+ examples of ~\d+ tokens: tiny ~[\d.]+ (s|min|h), base ~[\d.]+ (s|min|h), large ~/,
  );
  assert.match(warning, /tiny Transformer or a distilled Transformer student trains fine/);
  const noTrain = (labelled: number, hours?: number) =>
    transformerTrainingDevice.evaluate(
      facts({
        data: { labelled },
        hardware: { training: { device: 'cpu' } },
        ...(hours ? { constraints: { iteration_hours: hours } } : {}),
      }),
    )[0].noTrain ?? [];
  // tiny is never left out; large goes first as the data grows or the budget shrinks.
  assert.deepEqual(noTrain(1_000), []);
  assert.deepEqual(noTrain(1_000_000), ['transformer-base', 'transformer-large']);
  assert.ok(noTrain(20_000, 1).includes('transformer-large'));
  assert.ok(!noTrain(20_000, 1).includes('transformer-tiny'));
  // More data, longer estimate.
  assert.ok(cpuEpochSeconds('transformer-base', 2000, 40) > cpuEpochSeconds('transformer-tiny', 2000, 40));
  assert.ok(cpuEpochSeconds('transformer-base', 4000, 40) > cpuEpochSeconds('transformer-base', 2000, 40));
  const budget = transformerTrainingDevice.evaluate(
    facts({ hardware: { training: { device: 'cpu' } }, budget: { gpu_allowed: true } }),
  );
  assert.equal(budget[0].kind, 'recommendation');
  assert.equal(budget[0].noTrain, undefined);
  assert.equal(fires(transformerTrainingDevice, {}), false);
});

test('advice cites its rules in words: no guide section numbers in the text or the JSON', () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'advise');
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    const advice = adviseFromSpec(JSON.parse(readFileSync(file, 'utf8')), file);
    const text = renderAdvice(advice);
    assert.doesNotMatch(text, /§/, name);
    assert.doesNotMatch(JSON.stringify(advice), /§/, name);
    for (const step of advice.steps) for (const o of step.outcomes) assert.ok(o.title.length > 10, o.rule);
  }
});

test('multi-card training: fill one machine first, at least one file per card (guide §4.4.2)', () => {
  assert.equal(fires(multiGpu, {}), false);
  const out = multiGpu.evaluate(facts({ hardware: { training: { gpus: 4, machines: 2 } } }));
  assert.equal(
    out[0].recommendation,
    '4 card(s) × 2 machine(s): use all cards of one machine before adding machines, and split the training data into at least 8 files.',
  );
});

test('GPU serving at ≤ 100 QPS points at the cost of GPUs (guide §4.3)', () => {
  const gpu = { hardware: { serving: { device: 'gpu' } } };
  assert.equal(fires(gpuServingCost, { ...gpu, constraints: { qps: 100 } }), true);
  assert.equal(fires(gpuServingCost, { ...gpu, constraints: { qps: 101 } }), false);
  assert.equal(fires(gpuServingCost, {}), false);
});

test('networks that do not suit the task are left out (guide §4.2.4)', () => {
  assert.deepEqual(taskNets.evaluate(facts({ output: { kind: 'free_text' } }))[0].noTrain, ['bow', 'cnn']);
  assert.equal(fires(taskNets, {}), false);
  const gen = advise({ output: { kind: 'free_text' }, constraints: { qps: 2000 } });
  assert.deepEqual(served(gen), ['gru', 'lstm']);
});

test('metric: missing warns, unsuitable warns, in a pipeline step the default is used (guide §3.1.2b)', () => {
  const missing = metricFirst.evaluate(facts({ constraints: { accuracy: undefined } }));
  assert.equal(
    missing[0].recommendation,
    'No metric given (constraints.accuracy.metric): decide it before training; alembic uses macro_f1 for text classification.',
  );
  const wrong = metricFirst.evaluate(facts({ constraints: { accuracy: { metric: 'bleu' } } }));
  assert.equal(wrong[0].kind, 'warning');
  const pipe = { output: { kind: 'error_correction' }, constraints: { accuracy: { metric: 'bleu' } } };
  assert.equal(metricFirst.evaluate(facts(pipe, 0))[0].kind, 'recommendation');
  assert.equal(metricFirst.evaluate(facts(pipe, 1)).length, 0);
  const a = advise(pipe);
  assert.deepEqual(
    a.steps.map((s) => s.metric),
    ['perplexity', 'bleu'],
  );
});

test('no checkpoint: suggest one; with an iteration budget, for speed too (guide §4.2.1, §4.6.2b)', () => {
  const a = advise({ pretrained: {}, constraints: { iteration_hours: 3 } });
  const rules = a.steps[0].outcomes.map((o) => o.rule);
  assert.ok(rules.includes('pretrained-checkpoints') && rules.includes('iteration-pretrained'));
  assert.equal(fires(iterationWithPretrained, { constraints: { iteration_hours: 3 } }), false);
});

test('quality order when nothing constrains: pretrained > LSTM > GRU > CNN > BOW > from scratch (guide §4.2)', () => {
  assert.deepEqual(served(advise()), [
    'transformer-base',
    'lstm',
    'gru',
    'cnn',
    'bow',
    'transformer-tiny',
    'transformer-large',
  ]);
});

// ---- Hyperparameters (guide §4.4.3, §4.4.4) ----

test('log/eval/save steps keep the 10/100/1000 ratio, scaled to the run', () => {
  assert.deepEqual(stepIntervals(5_000), { trainLogStep: 10, evalStep: 100, saveModelStep: 1000 });
  assert.deepEqual(stepIntervals(470), { trainLogStep: 1, evalStep: 10, saveModelStep: 100 });
  assert.deepEqual(stepIntervals(9_375), { trainLogStep: 10, evalStep: 100, saveModelStep: 1000 });
  assert.deepEqual(stepIntervals(25_000), { trainLogStep: 50, evalStep: 500, saveModelStep: 5000 });
  assert.deepEqual(stepIntervals(50_000), { trainLogStep: 100, evalStep: 1000, saveModelStep: 10_000 });
  assert.deepEqual(stepIntervals(1), { trainLogStep: 1, evalStep: 10, saveModelStep: 100 });
});

test('batch size: Transformers small, large smallest, short inputs more, long inputs less', () => {
  const c = (id: CandidateId) => makeCandidate(id, { base: 'b', large: 'l', tiny: 't' });
  assert.equal(batchSizeFor(c('cnn'), 128, 10_000), 64);
  assert.equal(batchSizeFor(c('cnn'), 64, 10_000), 128);
  assert.equal(batchSizeFor(c('cnn'), 256, 10_000), 32);
  assert.equal(batchSizeFor(c('transformer-tiny'), 128, 10_000), 32);
  assert.equal(batchSizeFor(c('transformer-base'), 128, 10_000), 16);
  assert.equal(batchSizeFor(c('transformer-large'), 128, 10_000), 8);
  assert.equal(batchSizeFor(c('transformer-large'), 512, 10_000), 4);
  assert.equal(batchSizeFor(c('cnn'), 128, 50), 32); // never more than the examples
});

test('max_len: 1.5 × the average example, a power of two in 16..512', () => {
  const plan = planTasks(parseSpec(spec(), 's.json'));
  const step = plan.steps[0];
  assert.equal(maxLenFor(step, 1, 40), 64); // 60 → 64
  assert.equal(maxLenFor(step, 2, 40), 128); // 120 → 128
  assert.equal(maxLenFor(step, 1, 5), 16); // 8 → floor 16
  assert.equal(maxLenFor(step, 1, 1000), 512);
  assert.equal(maxLenFor(step, 1, undefined), 128);
});

test('the sentiment example: hand-computed settings for the CNN student and the teacher', () => {
  const a = advise({ constraints: { qps: 2000 }, data: { labelled: 3000, unlabelled: 200_000 } });
  const s = a.steps[0].serve;
  // 203,000 examples / batch 128 (CNN, max_len 64) = 1,586 steps × 5 epochs = 7,930 → eval every 100.
  assert.deepEqual(
    [s.trainExamples, s.batchSize, s.stepsPerEpoch, s.epochs, s.totalSteps, s.evalStep],
    [203_000, 128, 1586, 5, 7930, 100],
  );
  const t = a.steps[0].teacher;
  // Teacher: base, batch 16 × 2 (short inputs) = 32; 3,000 / 32 = 94 steps × 5 epochs = 470 → eval every 10.
  assert.deepEqual(
    [
      t?.trainExamples,
      t?.batchSize,
      t?.learningRate,
      t?.totalSteps,
      t?.trainLogStep,
      t?.evalStep,
      t?.saveModelStep,
    ],
    [3000, 32, 5e-5, 470, 1, 10, 100],
  );
});

// ---- Config, rendering, examples ----

test('adviceToConfig: the served net and the teacher as training configs', () => {
  const a = advise({
    name: 'Review Sentiment',
    constraints: { qps: 2000 },
    data: { labelled: 3000, unlabelled: 200_000 },
  });
  const student = adviceToConfig(a, { train: 'd/train.tsv', dev: 'd/dev.tsv' });
  assert.equal(student.task, 'text_classification');
  assert.deepEqual(student.dataset.tokenizer, { type: 'jieba' });
  assert.equal(student.dataset.test, undefined);
  assert.deepEqual(student.model, {
    net: 'cnn',
    embedding_dim: 128,
    hidden_size: 128,
    num_layers: 1,
    dropout: 0.1,
  });
  assert.equal(student.trainer.batch_size, 128);
  assert.equal(student.trainer.early_stopping.metric, 'accuracy');
  assert.equal(student.trainer.output_dir, 'runs/review-sentiment');
  const teacher = adviceToConfig(a, { train: 'd/train.tsv' }, { role: 'teacher' });
  assert.equal(teacher.model.pretrained_dir, 'ckpt/base');
  assert.deepEqual(teacher.dataset.tokenizer, {
    type: 'wordpiece',
    vocab: 'ckpt/base/vocab.txt',
    lowercase: false,
  });
  assert.equal(teacher.dataset.vocab, undefined);
  assert.equal(teacher.trainer.warmup_ratio, 0.1);
  assert.equal(teacher.trainer.output_dir, 'runs/review-sentiment-teacher');
  assert.throws(() => adviceToConfig(a, { train: 'x' }, { step: 1 }), UserError);
  assert.throws(() => adviceToConfig(advise(), { train: 'x' }, { role: 'teacher' }), /has no teacher/);
});

test('adviceToConfig: one config per pipeline step, char tokens for Chinese tagging', () => {
  const out = { kind: 'entity_relation', entity_types: ['P'], relation_types: ['r'] };
  const a = advise({ name: 'rel', output: out });
  const ner = adviceToConfig(a, { train: 'ner.tsv' }, { step: 0 });
  const rel = adviceToConfig(a, { train: 'rel.tsv' }, { step: 1 });
  assert.deepEqual([ner.task, rel.task], ['sequence_labeling', 'text_classification']);
  assert.equal(ner.trainer.output_dir, 'runs/rel-1-sequence-labeling');
  const nerScratch = adviceToConfig(
    advise({ output: { kind: 'token_tags', labels: ['LOC'] }, pretrained: {} }),
    {
      train: 't',
    },
  );
  assert.deepEqual(nerScratch.dataset.tokenizer, { type: 'char' });
  const en = adviceToConfig(advise({ input: { language: 'en' }, pretrained: {} }), { train: 't' });
  assert.deepEqual(en.dataset.tokenizer, { type: 'words', lowercase: true });
});

test('rendered advice names the task, the rules and the warnings in plain words', () => {
  const text = renderAdvice(
    advise({ constraints: { qps: 2000 }, data: { labelled: 3000, unlabelled: 200_000 } }),
  );
  for (const phrase of [
    'text classification (文本多分类)',
    'guide example: 房间 太 小 。 其他 的 都 一般 ⇥ 0',
    '1. CNN — best choice the constraints allow',
    'data distillation (数据蒸馏)',
    'train_log_step 10 · eval_step 100 · save_model_step 1000',
    '! QPS 2,000 on CPU: a Transformer will not reach it.',
    '[qps-above-1000]',
  ]) {
    assert.ok(text.includes(phrase), `missing: ${phrase}`);
  }
});

test('a pipeline reports rules common to all steps once', () => {
  const out = { kind: 'entity_relation', entity_types: ['P'], relation_types: ['r'] };
  const a = advise({ output: out, constraints: { qps: 50 } });
  assert.ok(a.shared.some((o) => o.rule === 'qps-modest'));
  assert.ok(a.steps.every((s) => !s.outcomes.some((o) => o.rule === 'qps-modest')));
  assert.match(renderAdvice(a), /RULES FOR EVERY STEP/);
});

test('the example specs in examples/advise all advise', () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'advise');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const a = adviseFromSpec(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
    assert.ok(a.steps.length >= 1 && a.steps.every((s) => s.scheme.serve.length > 0), f);
    assert.equal(JSON.parse(JSON.stringify(a)).name, a.name); // plain data, JSON-able
  }
});

test('a network ruled out of training is not also reported as not served', () => {
  const a = advise({
    constraints: { qps: 500 },
    data: { labelled: 1_000_000 },
    hardware: { training: { device: 'cpu' } },
  });
  const ids = a.steps[0].scheme.excluded.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(
    a.steps[0].scheme.excluded
      .filter((e) => e.id === 'transformer-base' || e.id === 'transformer-large')
      .every((e) => e.from === 'train'),
  );
});

test('written configs pass the training-config schema (src/config/run-config.ts)', async () => {
  const { configSchema } = await import('../../src/config/run-config.js');
  const er = { kind: 'entity_relation', entity_types: ['P'], relation_types: ['r'] };
  const cases: [Advice, { step?: number; role?: 'serve' | 'teacher' }][] = [
    [advise({ constraints: { qps: 2000 }, data: { labelled: 3000, unlabelled: 9000 } }), {}],
    [advise({ constraints: { qps: 2000 }, data: { labelled: 3000, unlabelled: 9000 } }), { role: 'teacher' }],
    [advise({ input: { numeric_features: ['ctr'] }, pretrained: {} }), {}],
    [advise({ output: er, pretrained: { tiny: 't', large: 'l' }, constraints: { qps: 300 } }), { step: 1 }],
    [advise({ output: { kind: 'free_text' }, pretrained: {} }), {}],
  ];
  for (const [a, options] of cases) {
    const config = adviceToConfig(a, { train: 'train.tsv', dev: 'dev.tsv' }, options);
    const r = configSchema.safeParse(config);
    assert.ok(r.success, `${JSON.stringify(options)}: ${r.success ? '' : JSON.stringify(r.error.issues)}`);
  }
});

test('adviceToConfig writes the measured winner when one is given, with its own settings', () => {
  const a = advise({ pretrained: {}, hardware: { training: { device: 'cpu' } } });
  const first = adviceToConfig(a, { train: 'd/train.tsv' });
  assert.equal(first.model.net, served(a)[0]);
  const other = served(a).find((id) => id === 'cnn' || id === 'bow')!;
  const measured = adviceToConfig(a, { train: 'd/train.tsv' }, { serve: other });
  assert.equal(measured.model.net, other);
  assert.notEqual(measured.model.net, first.model.net);
});
