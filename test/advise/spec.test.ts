import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec, SpecError, type SpecIssue } from '../../src/advise/spec.js';
import { InputError, UserError } from '../../src/util/errors.js';

const VALID = {
  input: { texts: 1 },
  output: { kind: 'one_of_k', labels: ['neg', 'pos'] },
  data: { labelled: 5000 },
};

/** The spec with `patch` merged in (objects merge except `output`, which is replaced whole). */
function withPatch(
  patch: Record<string, unknown>,
  base: Record<string, unknown> = VALID,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const old = out[k];
    const bothObjects =
      k !== 'output' && [v, old].every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
    out[k] = bothObjects ? withPatch(v as Record<string, unknown>, old as Record<string, unknown>) : v;
  }
  return out;
}

function issuesOf(json: unknown): SpecIssue[] {
  try {
    parseSpec(json, 'spec.json');
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected SpecError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('spec was accepted');
}

/** Asserts the spec fails with an issue at `path` whose message contains `words`. */
function rejects(json: unknown, path: string, words: string) {
  const issues = issuesOf(json);
  const hit = issues.find((i) => i.path === path);
  assert.ok(hit, `no issue at ${path}; got ${JSON.stringify(issues)}`);
  assert.ok(hit.message.includes(words), `message at ${path} was "${hit.message}", wanted "${words}"`);
}

test('a minimal spec parses and gets its defaults', () => {
  const spec = parseSpec(VALID, 'examples/sentiment.json');
  assert.equal(spec.name, 'sentiment');
  assert.equal(spec.input.passage_question, false);
  assert.equal(spec.input.language, 'zh');
  assert.deepEqual(spec.input.numeric_features, []);
  assert.equal(spec.data.unlabelled, 0);
  assert.deepEqual(spec.hardware, {
    training: { device: 'cpu', gpus: 0, machines: 1 },
    serving: { device: 'cpu', machines: 1 },
  });
  assert.deepEqual(spec.budget, {});
  assert.deepEqual(spec.pretrained, {});
  assert.equal(spec.outputs.length, 1);
  assert.equal(spec.outputIsList, false);
});

test('a GPU training machine defaults to one card', () => {
  const spec = parseSpec(withPatch({ hardware: { training: { device: 'gpu' } } }), 's.json');
  assert.equal(spec.hardware.training.gpus, 1);
});

test('the error names file, JSON path and problem, and is a UserError', () => {
  try {
    parseSpec(withPatch({ constraints: { qps: 'fast' } }), 'spec.json');
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof InputError && e instanceof UserError);
    assert.equal(e.message, 'spec.json: constraints.qps: must be a number, got "fast"');
  }
});

test('several problems: all are listed, the message names the first and counts the rest', () => {
  const json = withPatch({ constraints: { qps: -5 }, data: { labelled: 0 } });
  const issues = issuesOf(json);
  assert.deepEqual(
    issues.map((i) => i.path),
    ['data.labelled', 'constraints.qps'],
  );
  assert.throws(() => parseSpec(json, 'spec.json'), {
    message: 'spec.json: data.labelled: must be ≥ 1, got 0 (and 1 more: constraints.qps)',
  });
});

test('missing and mistyped fields', () => {
  rejects({ output: VALID.output, data: VALID.data }, 'input', 'is required');
  rejects(withPatch({ input: { texts: 1.5 } }), 'input.texts', 'must be a whole number, got 1.5');
  rejects(withPatch({ data: { labelled: 3000.5 } }), 'data.labelled', 'whole number');
  rejects(withPatch({ constraints: { qps: 0 } }), 'constraints.qps', 'must be > 0, got 0');
  rejects(withPatch({ data: { unlabelled: -1 } }), 'data.unlabelled', 'must be ≥ 0, got -1');
  rejects(withPatch({ input: { language: 'fr' } }), 'input.language', 'must be one of "zh", "en", got "fr"');
  rejects(
    withPatch({ constraints: { accuracy: { metric: 'goodness' } } }),
    'constraints.accuracy.metric',
    '"macro_f1"',
  );
  rejects(
    withPatch({ constraints: { accuracy: { target: 0.9 } } }),
    'constraints.accuracy.metric',
    'is required',
  );
  rejects(withPatch({ pretrained: { base: '' } }), 'pretrained.base', 'must not be empty');
  rejects(withPatch({ hardware: { training: { machines: 0 } } }), 'hardware.training.machines', '≥ 1');
  rejects(null, '(top level)', 'must be an object');
  rejects([VALID], '(top level)', 'got a list');
});

test('unknown fields are errors, so a typo cannot drop a constraint', () => {
  rejects(withPatch({ constraints: { qsp: 2000 } }), 'constraints.qsp', 'is not a known field');
  rejects(withPatch({ budget: { gpu_allowed: true, money: 5 } }), 'budget.money', 'is not a known field');
  rejects(
    withPatch({ output: { kind: 'one_of_k', labels: ['a', 'b'], lables: 1 } }),
    'output.lables',
    'not a known field',
  );
});

test('output kind: missing, unknown, and per item of an output list', () => {
  rejects(withPatch({ output: undefined }), 'output', 'is required');
  rejects(withPatch({ output: { labels: ['a'] } }), 'output.kind', 'is missing; use one of: one_of_k');
  rejects(withPatch({ output: { kind: 'sentiment' } }), 'output.kind', 'is "sentiment"');
  rejects(withPatch({ output: [] }), 'output', 'lists no outputs');
  const list = withPatch({ output: [VALID.output, { kind: 'token_tags', labels: [] }] });
  rejects(list, 'output[1].labels', 'needs ≥ 1 items');
  rejects(withPatch({ output: [VALID.output, { kind: 'nope' }] }), 'output[1].kind', 'is "nope"');
});

test('labels: enough of them, counts adding up, num_labels agreeing', () => {
  rejects(
    withPatch({ output: { kind: 'one_of_k', labels: ['only'] } }),
    'output.labels',
    'at least 2 labels',
  );
  rejects(withPatch({ output: { kind: 'one_of_k' } }), 'output.labels', 'is required (or num_labels)');
  rejects(
    withPatch({ output: { kind: 'token_tags' } }),
    'output.labels',
    'is required (or num_labels) for token_tags',
  );
  rejects(
    withPatch({ output: { kind: 'one_of_k', num_labels: 1 } }),
    'output.num_labels',
    'must be ≥ 2, got 1',
  );
  rejects(
    withPatch({ output: { kind: 'one_of_k', labels: ['a', 'b', 'c'], num_labels: 2 } }),
    'output.num_labels',
    'is 2, but labels lists 3',
  );
  rejects(
    withPatch({ output: { kind: 'one_of_k', labels: { a: 2000, b: 2900 } } }),
    'output.labels',
    'counts add up to 4,900, but data.labelled is 5,000',
  );
  rejects(withPatch({ output: { kind: 'one_of_k', labels: { a: -1, b: 5001 } } }), 'output.labels.a', '≥ 0');
  // Counts that add up are fine; multi-label counts may exceed the total (an example has several labels).
  parseSpec(withPatch({ output: { kind: 'one_of_k', labels: { a: 2000, b: 3000 } } }), 's.json');
  parseSpec(withPatch({ output: { kind: 'independent_labels', labels: { a: 4000, b: 3000 } } }), 's.json');
});

test('X must fit Y', () => {
  rejects(
    withPatch({ output: { kind: 'pair_score' } }),
    'input.texts',
    'is 1, but pair_score compares 2 texts',
  );
  rejects(withPatch({ input: { texts: 3 } }), 'input.texts', 'is 3, but one_of_k takes 1 text');
  rejects(
    withPatch({ input: { texts: 2 }, output: { kind: 'passage_span' } }),
    'input.passage_question',
    'must be true for passage_span',
  );
  rejects(
    withPatch({ input: { texts: 1, passage_question: true } }),
    'input.texts',
    'passage_question needs 2 texts',
  );
  rejects(withPatch({ output: { kind: 'ranking' } }), 'input.texts', 'ranks 2 or more texts');
  rejects(
    withPatch({ input: { numeric_features: ['price'] }, output: { kind: 'token_tags', labels: ['LOC'] } }),
    'input.numeric_features',
    'mixed-feature classification',
  );
  parseSpec(withPatch({ input: { texts: 5 }, output: { kind: 'ranking' } }), 's.json');
  parseSpec(
    withPatch({ input: { texts: 2, passage_question: true }, output: { kind: 'passage_span' } }),
    's.json',
  );
});

test('hardware and targets must agree with themselves', () => {
  rejects(
    withPatch({ hardware: { training: { device: 'cpu', gpus: 2 } } }),
    'hardware.training.gpus',
    'is 2, but device is cpu',
  );
  rejects(
    withPatch({ hardware: { training: { device: 'gpu', gpus: 0 } } }),
    'hardware.training.gpus',
    'is 0, but device is gpu',
  );
  rejects(
    withPatch({ constraints: { accuracy: { metric: 'accuracy', target: 90 } } }),
    'constraints.accuracy.target',
    'write 0.9 for 90%',
  );
  // Perplexity is not a fraction.
  parseSpec(
    withPatch({
      output: { kind: 'likelihood' },
      constraints: { accuracy: { metric: 'perplexity', target: 40 } },
    }),
    's.json',
  );
});
