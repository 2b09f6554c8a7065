import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpamAssassin } from '../../src/data/corpora/spam-assassin.js';
import { decodeEncodedWords, emailText, htmlToText } from '../../src/data/corpora/email.js';
import {
  loadPoemAuthors,
  loadPoemTags,
  loadPoemTitles,
  loadPoemTones,
  loadTangSong,
  loadTangSongWithRest,
  loadUnlabelledPoems,
  toneTags,
} from '../../src/data/corpora/chinese-poetry.js';
import { loadBrown, simplifyTag } from '../../src/data/corpora/brown.js';
import { tsvLines, writeTsv } from '../../src/data/corpora/write-tsv.js';
import { splitDataset } from '../../src/data/split.js';
import { readClassificationFile } from '../../src/data/readers/classification.js';
import { readSequenceFile } from '../../src/data/readers/sequence.js';
import { readGenerationFile } from '../../src/data/readers/generation.js';
import { tempDir } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-corpora-');
after(() => rmSync(dir, { recursive: true, force: true }));

// ---- email decoding (synthetic mails) ----

test('email: subject decoding, quoted-printable, base64 with a charset', () => {
  assert.equal(
    decodeEncodedWords('=?iso-8859-1?Q?caf=E9_au_lait?= =?utf-8?B?5Lit5paH?= !'),
    'café au lait中文 !',
  );
  const qp = emailText(
    'From x@y  Mon\nSubject: =?gb2312?B?xOO6ww==?=\nContent-Type: text/plain; charset=iso-8859-1\n' +
      'Content-Transfer-Encoding: quoted-printable\n\nna=EFve so=\nft line\n',
  );
  assert.deepEqual(qp, { subject: '你好', body: 'naïve soft line\n' });
  const b64 = emailText(
    'Subject: hi\nContent-Type: text/plain; charset="gb2312"\nContent-Transfer-Encoding: base64\n\n' +
      Buffer.from([0xc4, 0xe3, 0xba, 0xc3]).toString('base64') +
      '\n',
  );
  assert.equal(b64.body, '你好');
});

test('email: multipart prefers plain text, drops attachments, reads HTML', () => {
  const mail = [
    'Subject: offer',
    'Content-Type: multipart/mixed; boundary="OUTER"',
    '',
    'preamble is ignored',
    '--OUTER',
    'Content-Type: multipart/alternative; boundary=INNER',
    '',
    '--INNER',
    'Content-Type: text/plain',
    '',
    'plain version',
    '--INNER',
    'Content-Type: text/html',
    '',
    '<p>html version</p>',
    '--INNER--',
    '--OUTER',
    'Content-Type: application/octet-stream',
    'Content-Disposition: attachment; filename="x.exe"',
    'Content-Transfer-Encoding: base64',
    '',
    'TVqQAAMAAAAEAAAA',
    '--OUTER',
    'Content-Type: text/html',
    '',
    '<html><head><title>t</title><style>p{}</style></head><body>Buy&nbsp;now &amp; save&#33;<br>Click</body></html>',
    '--OUTER--',
  ].join('\r\n');
  const { subject, body } = emailText(mail);
  assert.equal(subject, 'offer');
  assert.equal(body.replace(/\s+/g, ' ').trim(), 'plain version Buy now & save! Click');
  assert.equal(htmlToText('a<script>x()</script>b&unknown;'), 'a b&unknown;');
});

test('SpamAssassin: all 6,046 emails with ham/spam labels', () => {
  const emails = loadSpamAssassin();
  assert.equal(emails.length, 6046);
  const counts = { ham: 0, spam: 0 };
  for (const e of emails) counts[e.label]++;
  // easy-ham-1 2,500 + easy-ham-2 1,400 + hard-ham-1 250 = 4,150; spam-1 500 + spam-2 1,396 = 1,896.
  assert.deepEqual(counts, { ham: 4150, spam: 1896 });
  assert.equal(new Set(emails.map((e) => e.id)).size, 6046);
  assert.ok(emails.every((e) => e.text.length > 0 && !/[\t\n\uFFFD]/.test(e.text)));
  // Headers other than Subject are gone: the first mail starts with its subject.
  assert.ok(emails[0].text.startsWith('Re: New Sequences Window'), emails[0].text.slice(0, 80));
  assert.ok(!/Return-Path|Delivered-To|exmh-workers-admin/.test(emails[0].text));
  // Only mails that forward a raw mail in their body (spam-2/00403 does) show header lines.
  assert.ok(emails.filter((e) => /Return-Path: /.test(e.text.slice(0, 300))).length < 10);
  const split = splitDataset(emails, { train: 0.8, dev: 0.1, test: 0.1, seed: 3, stratifyBy: 'label' });
  const again = splitDataset(emails, { train: 0.8, dev: 0.1, test: 0.1, seed: 3, stratifyBy: 'label' });
  assert.deepEqual(
    split.test.map((e) => e.id),
    again.test.map((e) => e.id),
  );
  // 1,896 spam → 1,517 / 190 / 189 by largest remainder (1516.8, 189.6, 189.6).
  assert.equal(
    split.test.filter((e) => e.label === 'spam').length + split.dev.filter((e) => e.label === 'spam').length,
    379,
  );
});

// ---- chinese-poetry: a tiny fake package for exact behaviour, then the real one ----

function fakePoetry(): string {
  const root = join(dir, 'poetry');
  const folder = join(root, 'dist', 'quantangshi');
  const strains = join(root, 'dist', 'strains', 'json');
  mkdirSync(folder, { recursive: true });
  mkdirSync(strains, { recursive: true });
  const poem = (id: string, author: string, text: string[], tags?: string[]) => ({
    id,
    author,
    title: `題${id}`,
    paragraphs: text,
    ...(tags ? { tags } : {}),
  });
  const tang = [
    poem('t1', '李白', ['床前明月光，疑是地上霜。'], ['思乡', '唐诗三百首']),
    poem('t2', '李白', ['同一首詩。']),
    poem('t3', '杜甫', ['國破山河在，城春草木深。'], ['思乡']),
    poem('t4', '杜甫', ['國破山河在，城春草木深。']), // repeats t3's text
    poem('t5', '王維', []),
  ];
  const song = [poem('s1', '蘇軾', ['同一首詩。']), poem('s2', '蘇軾', ['明月幾時有。'], ['思乡'])];
  writeFileSync(join(folder, 'poet.tang.0.json'), JSON.stringify(tang));
  writeFileSync(join(folder, 'poet.song.0.json'), JSON.stringify(song));
  writeFileSync(join(folder, 'authors.tang.json'), '[]');
  writeFileSync(
    join(strains, 'poet.tang.0.json'),
    JSON.stringify([
      { id: 't1', strains: ['仄平平仄平，平仄仄仄平。'] },
      { id: 't3', strains: ['仄仄平平仄'] }, // too short: does not line up
    ]),
  );
  return root;
}

test('chinese-poetry (fake package): dedup, ambiguous texts, tags, titles, tones', () => {
  const root = fakePoetry();
  const tangSong = loadTangSong({ dir: root, seed: 1 });
  // t2 and s1 share a text (label unknowable), t4 repeats t3, t5 is empty.
  assert.deepEqual(tangSong.map((e) => `${e.id}:${e.label}`).sort(), ['s2:song', 't1:tang', 't3:tang']);
  assert.deepEqual(loadTangSong({ dir: root, seed: 1 }), tangSong);
  assert.equal(loadTangSong({ dir: root, seed: 1, limitPerClass: 1 }).length, 2);

  const tags = loadPoemTags({ dir: root, minCount: 2 });
  assert.deepEqual(tags.map((e) => `${e.id}:${e.labels}`).sort(), ['s2:思乡', 't1:思乡', 't3:思乡']);
  assert.equal(loadPoemTags({ dir: root, minCount: 4 }).length, 0);

  const authors = loadPoemAuthors({ dir: root, topAuthors: 1, dynasties: ['tang'] });
  assert.deepEqual(authors.map((e) => e.label).sort(), ['李白', '李白']);

  const titles = loadPoemTitles({ dir: root, dynasties: ['tang'] });
  assert.deepEqual(titles[0], { id: 't1', source: '題t1', target: '床前明月光，疑是地上霜。' });
  // t1, t2, t3, s2: t4 repeats t3, s1 repeats t2, t5 is empty.
  assert.equal(loadUnlabelledPoems({ dir: root }).length, 4);

  const tones = loadPoemTones({ dir: root });
  assert.equal(tones.examples.length, 1);
  assert.equal(tones.skipped, 5); // t3 misaligned; t2, t4, s1 and s2 have no strains
  assert.deepEqual(tones.examples[0].tags, ['Z', 'P', 'P', 'Z', 'P', 'X', 'P', 'Z', 'Z', 'Z', 'P', 'X']);
});

test('chinese-poetry (real package): the rest of the Tang/Song pools is unlabelled in-domain text', () => {
  const options = { seed: 5, limitPerClass: 300 };
  const { examples, rest } = loadTangSongWithRest(options);
  assert.deepEqual(examples, loadTangSong(options), 'the same sample as loadTangSong');
  const sampled = new Set(examples.map((e) => e.text));
  assert.ok(rest.length >= 2 * 300 * 2, `pools hold at least four times the sample (rest ${rest.length})`);
  assert.ok(
    rest.every((e) => !sampled.has(e.text) && !('label' in e)),
    'no sampled poem, no label',
  );
  assert.equal(new Set(rest.map((e) => e.text)).size, rest.length, 'no text twice');
  const restIds = new Set(rest.map((e) => e.id));
  assert.ok(!examples.some((e) => restIds.has(e.id)), 'no poem id in both');
});

test('tone tags: symbols, punctuation and misalignment', () => {
  assert.deepEqual(toneTags('風吹？', '平○？'), ['P', 'B', 'X']);
  assert.deepEqual(toneTags('□雨', '？仄'), ['U', 'Z']);
  assert.equal(toneTags('風吹', '平'), undefined);
  assert.equal(toneTags('風吹', '平通'), undefined);
});

test('chinese-poetry (real package): Tang vs Song sample', () => {
  const examples = loadTangSong({ seed: 5, limitPerClass: 300 });
  assert.equal(examples.length, 600);
  assert.equal(examples.filter((e) => e.label === 'tang').length, 300);
  assert.ok(examples.every((e) => e.text.length > 0 && e.author !== undefined));
  const split = splitDataset(examples, { train: 0.8, dev: 0.1, test: 0.1, seed: 5, stratifyBy: 'label' });
  assert.deepEqual(
    split.dev.map((e) => e.id),
    splitDataset(examples, { train: 0.8, dev: 0.1, test: 0.1, seed: 5, stratifyBy: 'label' }).dev.map(
      (e) => e.id,
    ),
  );
  assert.equal(split.dev.filter((e) => e.label === 'song').length, 30);
});

test('chinese-poetry (real package): tone sequences align with characters', () => {
  const a = loadPoemTones({ seed: 2, limit: 300, dynasties: ['tang'] });
  assert.equal(a.examples.length, 300);
  for (const e of a.examples) {
    assert.equal(e.tokens.length, e.tags?.length);
    assert.ok(e.tags?.every((t) => ['P', 'Z', 'B', 'U', 'X'].includes(t)));
  }
  assert.deepEqual(
    loadPoemTones({ seed: 2, limit: 300, dynasties: ['tang'] }).examples.map((e) => e.id),
    a.examples.map((e) => e.id),
  );
  assert.equal(loadUnlabelledPoems({ seed: 2, limit: 50 }).length, 50);
});

// ---- Brown ----

test('Brown: sentences with aligned tokens and tags, grouped by file', () => {
  const sentences = loadBrown();
  assert.equal(sentences.length, 57340);
  assert.equal(
    sentences.reduce((n, s) => n + s.tokens.length, 0),
    1161192,
  );
  assert.ok(sentences.every((s) => s.tokens.length === s.tags.length && s.tokens.length > 0));
  assert.deepEqual(sentences[0].tokens.slice(0, 3), ['The', 'Fulton', 'County']);
  assert.deepEqual(sentences[0].tags.slice(0, 3), ['at', 'np-tl', 'nn-tl']);
  assert.equal(sentences[0].fileId, 'ca01');
  assert.equal(sentences[0].genre, 'news');
  assert.equal(new Set(sentences.map((s) => s.fileId)).size, 500);

  const split = splitDataset(sentences, { train: 0.8, dev: 0.1, test: 0.1, seed: 9, groupBy: 'fileId' });
  const trainFiles = new Set(split.train.map((s) => s.fileId));
  assert.ok(split.test.every((s) => !trainFiles.has(s.fileId)));
  assert.ok(split.dev.every((s) => !trainFiles.has(s.fileId)));
  assert.ok(Math.abs(split.test.length / sentences.length - 0.1) < 0.02);
});

test('Brown: simplified tags', () => {
  assert.equal(simplifyTag('nn-tl'), 'nn');
  assert.equal(simplifyTag('nn-tl-hl'), 'nn');
  assert.equal(simplifyTag('np$'), 'np');
  assert.equal(simplifyTag('md*'), 'md');
  assert.equal(simplifyTag('*'), '*');
  assert.equal(simplifyTag('*-hl'), '*');
  assert.equal(simplifyTag('ppss+md'), 'ppss');
  assert.equal(simplifyTag('fw-nn-tl'), 'nn');
  assert.equal(simplifyTag('--'), '--');
  const news = loadBrown({ simplifyTags: true, genres: ['news'] });
  assert.equal(new Set(news.map((s) => s.fileId)).size, 44);
  assert.ok(news.every((s) => s.tags.every((t) => !/-(hl|tl|nc)$|\+/.test(t))));
});

// ---- writing TSV splits ----

test('writeTsv: files the readers read back', async () => {
  const classification = [
    { text: 'line\none\ttab', label: 'spam', features: { price: 1.5 } },
    { text: 'two', label: 'ham', features: { price: 2 } },
  ];
  const path = join(dir, 'out', 'train.tsv');
  assert.equal(writeTsv(classification, path), 3);
  const back = await readClassificationFile(path, { numericFeatures: ['price'] });
  assert.deepEqual(back.examples, [
    { text: 'line one tab', label: 'spam', features: { price: 1.5 }, line: 2 },
    { text: 'two', label: 'ham', features: { price: 2 }, line: 3 },
  ]);
  assert.deepEqual(tsvLines([{ text: 'a', textB: 'b', labels: ['x', 'y'] }]), ['a\tb\tx y']);
  assert.throws(() => tsvLines([{ text: 'a', label: 'two words' }]), /holds whitespace/);

  const sequencePath = join(dir, 'out', 'seq.tsv');
  writeTsv([{ tokens: ['New', 'York'], tags: ['np', 'np'] }], sequencePath);
  assert.deepEqual((await readSequenceFile(sequencePath)).examples, [
    { tokens: ['New', 'York'], tags: ['np', 'np'], line: 1 },
  ]);
  const generationPath = join(dir, 'out', 'gen.tsv');
  writeTsv([{ source: '題', target: '床前\t明月光' }], generationPath);
  assert.deepEqual((await readGenerationFile(generationPath)).examples, [
    { source: '題', target: '床前 明月光', line: 1 },
  ]);
});
