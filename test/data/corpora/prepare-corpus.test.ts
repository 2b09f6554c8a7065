// `alembic data prepare` for the tasks with no labelled corpus: the derived sets are deterministic, in
// the format their task's reader reads, keep texts of one split out of the others, and say what their
// rule says (checked against the Brown corpus itself and against hand-made poems).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadBrown } from '../../../src/data/corpora/brown.js';
import { poemCouplets, poemLines, poemQuestion } from '../../../src/data/corpora/poem-tasks.js';
import { CORPORA, prepareCorpus } from '../../../src/data/corpora/prepare-corpus.js';
import { readClassificationFile } from '../../../src/data/readers/classification.js';
import { readGenerationFile, readLanguageModelText } from '../../../src/data/readers/generation.js';
import { readReadingComprehensionJson } from '../../../src/data/readers/reading-comprehension.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/tiny-data.js';

const dir = tempDir();
const LIMIT = 160;

function prepared(name: string, sub = 'a') {
  return prepareCorpus(name, path.join(dir, `${name}-${sub}`), { limit: LIMIT });
}

function rows(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/**
 * Each Brown sentence (tokens joined by spaces) that occurs once → its file, genre and place in the
 * file; a sentence found in several places ("Yes .") is left out, since it names no one text.
 */
function brownIndex() {
  const index = new Map<string, { fileId: string; genre: string; k: number }>();
  const repeated = new Set<string>();
  const byFile = new Map<string, string[]>();
  const genreOf = new Map<string, string>();
  for (const s of loadBrown({ genres: ['romance', 'government'] })) {
    const text = s.tokens.join(' ');
    const list = byFile.get(s.fileId) ?? [];
    if (index.has(text)) repeated.add(text);
    index.set(text, { fileId: s.fileId, genre: s.genre, k: list.length });
    list.push(text);
    byFile.set(s.fileId, list);
    genreOf.set(s.fileId, s.genre);
  }
  for (const text of repeated) index.delete(text);
  return { index, byFile, genreOf };
}

describe('data prepare: derived sets', () => {
  it('every corpus is listed once and an unknown name is a UserError naming them', () => {
    const names = CORPORA.map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
    for (const n of ['brown-which-novel', 'brown-same-text', 'poem-lm', 'poem-couplets', 'poem-next-line'])
      assert.ok(names.includes(n), n);
    assert.throws(
      () => prepareCorpus('poems', dir),
      (e: unknown) => e instanceof UserError && e.message.includes('poem-lm') && !e.message.includes('\n'),
    );
  });

  it("never replaces a user's file of the same name; replaces what it wrote itself", () => {
    const own = path.join(dir, 'user-data');
    mkdirSync(own);
    writeFileSync(path.join(own, 'dev.txt'), 'my own dev set\n');
    assert.throws(
      () => prepareCorpus('poem-lm', own, { limit: LIMIT }),
      (e: unknown) =>
        e instanceof UserError &&
        e.message.includes('dev.txt: exists and was not written by alembic data prepare'),
    );
    assert.equal(readFileSync(path.join(own, 'dev.txt'), 'utf8'), 'my own dev set\n');
    assert.throws(() => readFileSync(path.join(own, 'train.txt')), /ENOENT/);
    const again = path.join(dir, 'prepared-again');
    prepareCorpus('poem-lm', again, { limit: LIMIT });
    const second = prepareCorpus('poem-lm', again, { limit: LIMIT / 2 });
    assert.equal(second.counts.train, LIMIT / 2);
  });

  it('is deterministic: the same files twice', () => {
    for (const name of ['brown-same-text', 'poem-next-line']) {
      const a = prepared(name, 'a');
      const b = prepared(name, 'b');
      for (const split of ['train', 'dev', 'test'] as const)
        assert.equal(readFileSync(a[split], 'utf8'), readFileSync(b[split], 'utf8'), `${name} ${split}`);
    }
  });

  it('brown-which-novel: one novel sentence and one government sentence, the label names the novel', async () => {
    const files = prepared('brown-which-novel');
    assert.equal(files.counts.train, LIMIT);
    const { index } = brownIndex();
    const fileIds: Set<string>[] = [];
    for (const split of ['train', 'dev'] as const) {
      const { examples } = await readClassificationFile(files[split], { kind: 'pair' });
      const labels = examples.map((e) => e.label);
      assert.ok(Math.abs(labels.filter((l) => l === 'a').length - labels.length / 2) <= 1, 'balanced');
      const ids = new Set<string>();
      for (const e of examples) {
        const a = index.get(e.text);
        const b = index.get(e.textB!);
        if (!a || !b) continue; // a sentence that occurs in several texts
        assert.deepEqual([a.genre, b.genre].sort(), ['government', 'romance']);
        assert.equal(e.label, a.genre === 'romance' ? 'a' : 'b');
        ids.add(a.fileId).add(b.fileId);
      }
      fileIds.push(ids);
    }
    assert.ok(
      [...fileIds[1]].every((f) => !fileIds[0].has(f)),
      'no text in both train and dev',
    );
  });

  it('brown-same-text: 1 is the next two sentences of the text, 0 two of a text of the other genre', () => {
    const files = prepared('brown-same-text');
    const { index, byFile, genreOf } = brownIndex();
    /** Whether `b` is two consecutive sentences of a text whose genre is not `genre`. */
    const fromOtherGenre = (b: string, genre: string) =>
      [...byFile].some(
        ([fileId, sentences]) =>
          genreOf.get(fileId) !== genre &&
          sentences.some((_, k) => sentences.slice(k, k + 2).join(' ') === b),
      );
    const table = rows(files.train);
    assert.equal(table.length, LIMIT);
    let checked = 0;
    for (const [a, b, label] of table.slice(0, 40)) {
      const at = index.get(a);
      if (!at) continue; // a sentence that occurs in several texts
      checked++;
      const sentences = byFile.get(at.fileId)!;
      if (label === '1') assert.equal(b, sentences.slice(at.k + 1, at.k + 3).join(' '));
      else {
        assert.equal(label, '0');
        assert.ok(
          fromOtherGenre(b, at.genre),
          `"${b.slice(0, 40)}…" is two sentences of a ${at.genre === 'romance' ? 'government' : 'romance'} text`,
        );
      }
    }
    assert.ok(checked > 30);
    assert.equal(table.filter((r) => r[2] === '1').length, LIMIT / 2);
  });

  it('poem-lm, poem-couplets, poem-next-line: readable by their tasks, no poem in two splits', async () => {
    const lm = prepared('poem-lm');
    assert.ok(lm.train.endsWith('.txt'));
    const train = (await readLanguageModelText(lm.train)).examples.map((e) => e.text);
    const dev = (await readLanguageModelText(lm.dev)).examples.map((e) => e.text);
    assert.equal(train.length, LIMIT);
    assert.ok(dev.every((p) => !train.includes(p)));

    const couplets = prepared('poem-couplets');
    const pairs = (await readGenerationFile(couplets.train, { labelled: true })).examples;
    assert.equal(pairs.length, LIMIT);
    assert.ok(pairs.every((p) => p.source.length > 0 && !/[，。]/.test(p.source + p.target!)));

    const rc = prepared('poem-next-line');
    assert.ok(rc.train.endsWith('.json'));
    // The reader checks every answer against its context at answer_start.
    const questions = (await readReadingComprehensionJson(rc.train)).examples;
    assert.ok(questions.length > LIMIT * 0.9 && questions.length <= LIMIT);
    for (const q of questions) {
      const asked = /^「(.+)」的下一句？$/.exec(q.question)![1];
      const answer = q.answers[0];
      const before = q.context.slice(0, answer.start);
      assert.ok(before.endsWith(asked + before.at(-1)), `${asked} comes just before ${answer.text}`);
    }
  });

  it('the poem rules on hand-made poems', () => {
    const poem = '白日依山盡，黃河入海流。欲窮千里目，更上一層樓。';
    assert.deepEqual(
      poemLines(poem).map((l) => [l.text, l.index, l.mark]),
      [
        ['白日依山盡', 0, '，'],
        ['黃河入海流', 6, '。'],
        ['欲窮千里目', 12, '，'],
        ['更上一層樓', 18, '。'],
      ],
    );
    assert.deepEqual(poemCouplets(poem), [
      { source: '白日依山盡', target: '黃河入海流' },
      { source: '欲窮千里目', target: '更上一層樓' },
    ]);
    // A line ending a sentence does not open a couplet with the next sentence's first line.
    assert.deepEqual(poemCouplets('春眠不覺曉。處處聞啼鳥，夜來風雨聲。'), [
      { source: '處處聞啼鳥', target: '夜來風雨聲' },
    ]);
    const q = poemQuestion(poem, 'x', new Rng(1))!;
    const k = poemLines(poem).findIndex((l) => q.question === `「${l.text}」的下一句？`);
    assert.ok(k >= 0 && k < 3);
    assert.deepEqual(q.answers, [{ text: poemLines(poem)[k + 1].text, start: poemLines(poem)[k + 1].index }]);
    // A repeated line would have two answers: no question.
    assert.equal(poemQuestion('一聲啼，一聲啼，', 'y', new Rng(1)), undefined);
    assert.equal(poemQuestion('獨句', 'z', new Rng(1)), undefined);
  });
});
