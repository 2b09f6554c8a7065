// The studio end to end in a real browser (Debian's Chromium driven by playwright-core): a slice of a
// bundled corpus uploaded, split and advised on (by keyboard), a BOW trained for one epoch while its curves
// update, a second run compared with it, a long run stopped and resumed, the report and downloads, an export
// measured, a sentence classified in the try-it box, the language switched, the runs found again after the
// studio restarts, and one deleted by its name. Every check is against what the server wrote to the
// workspace (the file, metrics.jsonl, report.html, the database through the API), never against numbers
// written here.
// Screenshots go to a temp folder (printed); STUDIO_SCREENSHOTS_TO=docs/studio also copies the key ones.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from '../helpers/tiny-data.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The screenshots the README and docs/studio show. */
const KEY_SHOTS = ['data', 'advice', 'train', 'runs', 'deploy', 'deploy-zh'];

interface Studio {
  url: string;
  proc: ChildProcess;
}

/** `alembic studio` on a free port; resolves with the address it prints. */
function startStudio(workspace: string): Promise<Studio> {
  const proc = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'alembic.js'), 'studio', '--port', '0', '--workspace', workspace],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`studio did not start: ${out}${err}`)), 60_000);
    proc.stderr!.on('data', (d) => (err += d));
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /alembic studio: (http:\/\/\S+?)\/?\s/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], proc });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`studio exited (${code}) before listening: ${out}${err}`));
    });
  });
}

/** SIGTERM, as Ctrl-C would: the studio stops its jobs and exits 0. */
function stopStudio(s: Studio): Promise<number | null> {
  if (s.proc.exitCode !== null) return Promise.resolve(s.proc.exitCode);
  return new Promise((resolve) => {
    s.proc.removeAllListeners('exit');
    s.proc.once('exit', (code) => resolve(code));
    s.proc.kill('SIGTERM');
  });
}

function labelCountsOf(tsv: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of tsv.split('\n').filter((l) => l.trim() !== '')) {
    const label = line.split('\t')[1];
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return counts;
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

function metricsOf(workspace: string, run: string): Record<string, unknown>[] {
  return lines(path.join(workspace, 'runs', run, 'metrics.jsonl')).map((l) => JSON.parse(l));
}

/**
 * Records every value the chart's data-points attribute takes (a MutationObserver in the page, so no
 * redraw is missed between two polls). Given as source text: the test runner's transpiler wraps named
 * functions in a helper the page does not have.
 */
async function watchPoints(page: Page, testId: string): Promise<void> {
  await page.evaluate(`(() => {
    const id = ${JSON.stringify(testId)};
    window.seen = window.seen || {};
    const seen = (window.seen[id] = []);
    const record = () => {
      const el = document.querySelector('[data-testid="' + id + '"]');
      const n = Number(el ? el.getAttribute('data-points') : 0);
      if (seen[seen.length - 1] !== n) seen.push(n);
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ['data-points'],
    });
    record();
  })()`);
}

const seenPoints = (page: Page, testId: string) =>
  page.evaluate(`window.seen[${JSON.stringify(testId)}]`) as Promise<number[]>;

describe(
  'alembic studio in Chromium',
  { skip: !existsSync(CHROMIUM) && 'needs /usr/bin/chromium (setup.sh --test)' },
  () => {
    const workspace = tempDir('alembic-studio-ws-');
    const shots = mkdtempSync(path.join(os.tmpdir(), 'alembic-studio-shots-'));
    let studio: Studio;
    let context: BrowserContext;
    let page: Page;
    let corpus: string;
    const pageErrors: string[] = [];
    const shot = async (name: string, fullPage = true) => {
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
    };

    before(async () => {
      const data = tempDir('alembic-studio-data-');
      const prep = spawnSync(
        process.execPath,
        [
          path.join(ROOT, 'bin', 'alembic.js'),
          'data',
          'prepare',
          'tang-song',
          '--out',
          data,
          '--limit',
          '600',
        ],
        { cwd: ROOT, encoding: 'utf8' },
      );
      assert.equal(prep.status, 0, prep.stderr);
      corpus = path.join(data, 'tang-song.tsv');
      writeFileSync(corpus, readFileSync(path.join(data, 'train.tsv')));
      studio = await startStudio(workspace);
      context = await chromium.launchPersistentContext(tempDir('alembic-studio-chromium-'), {
        executablePath: CHROMIUM,
        args: CHROMIUM_FLAGS,
        viewport: { width: 1280, height: 860 },
        locale: 'en-US',
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (e) => pageErrors.push(e.message));
    });

    after(async () => {
      await context?.close();
      if (studio) await stopStudio(studio);
      const to = process.env.STUDIO_SCREENSHOTS_TO;
      if (to) {
        mkdirSync(path.resolve(ROOT, to), { recursive: true });
        for (const s of KEY_SHOTS)
          if (existsSync(path.join(shots, `${s}.png`)))
            copyFileSync(path.join(shots, `${s}.png`), path.resolve(ROOT, to, `${s}.png`));
      }
      console.log(`studio screenshots: ${shots}`);
    });

    it('goes from an uploaded file to a classified sentence, and keeps the runs over a restart', async () => {
      // The page is served with no external request: everything it loads comes from the studio.
      const external: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(studio.url) && !r.url().startsWith('data:')) external.push(r.url());
      });
      await page.goto(studio.url + '/');

      // Keyboard first: Tab reaches the skip link, then the steps in order.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.className'), 'skip');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.dataset.screen'), 'data');

      // --- Data: upload, preview, label counts as the file has them, checks, split with a seed.
      await page.setInputFiles('[data-testid=upload]', corpus);
      await page.waitForSelector('[data-testid=preview] tbody tr');
      assert.equal(await page.textContent('[data-testid=detected-task]'), 'text_classification');
      const expected = labelCountsOf(readFileSync(corpus, 'utf8'));
      const shown = new Map(
        (await page.$$eval('[data-testid=labels] li', (lis) =>
          lis.map((li) => [
            li.querySelector('.bar-label')!.textContent!,
            li.querySelector('.bar-n')!.textContent!,
          ]),
        )) as [string, string][],
      );
      assert.deepEqual(new Map([...shown].map(([l, n]) => [l, Number(n)])), expected);
      assert.ok((await page.$$('[data-testid=checks] li')).length > 0, 'the data checks are listed');
      await page.click('[data-testid=split]');
      await page.waitForSelector('[data-testid=split-result]');
      const dataDir = path.join(workspace, 'data');
      const parts = ['train', 'dev', 'test'].map((p) => lines(path.join(dataDir, `tang-song.${p}.tsv`)));
      assert.deepEqual(
        parts.flat().sort(),
        lines(corpus).sort(),
        'the three parts hold exactly the uploaded examples',
      );
      assert.ok(Math.abs(parts[1].length - 60) <= 2, `dev is 10% of 600 (${parts[1].length})`);
      await shot('data');

      // The language switch: Chinese text, then back to English.
      await page.selectOption('.lang select', 'zh');
      assert.equal((await page.textContent('[data-screen=data]'))?.trim(), '1 数据');
      await page.selectOption('.lang select', 'en');

      // --- Advice, with the keyboard: Enter in the form asks, the recommendation names a network.
      await page.click('[data-testid=to-advice]');
      await page.fill('[data-testid=advice-form] input[type=number]', '2000');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid=advice-result]');
      assert.match(
        (await page.textContent('[data-testid=advice-net]')) ?? '',
        /^(bow|cnn|gru|lstm|transformer)/,
      );
      await shot('advice');
      await page.click('[data-testid=accept-advice]');

      // --- Train: a BOW for one epoch; the form edits the JSON; the curve grows while it trains.
      await page.waitForSelector('[data-testid=config-json]');
      await page.selectOption('[data-testid=net]', 'bow');
      // The form is refilled from the BOW template when it arrives; edit it only after that.
      await page.waitForFunction(
        () =>
          JSON.parse((document.querySelector('[data-testid=config-json]') as HTMLTextAreaElement).value).model
            .net === 'bow',
      );
      const setField = async (p: string, v: string) => page.fill(`[data-path="${p}"] input`, v);
      await setField('trainer.epochs', '1');
      await setField('trainer.batch_size', '8');
      await setField('trainer.train_log_step', '3');
      await setField('trainer.eval_step', '10');
      await setField('trainer.threads', '1');
      await setField('trainer.learning_rate', '0.02');
      const json = JSON.parse(await page.inputValue('[data-testid=config-json]'));
      assert.equal(json.trainer.epochs, 1);
      assert.equal(json.model.net, 'bow');
      assert.equal(json.dataset.train, 'data/tang-song.train.tsv');
      assert.equal(json.dataset.dev, 'data/tang-song.dev.tsv');
      await page.fill('[data-testid=run-name]', 'bow-a');
      await page.click('[data-testid=start]');
      await page.waitForSelector('[data-testid=run-live]');
      await watchPoints(page, 'loss-chart');
      await page.waitForSelector('[data-testid=run-live][data-status=done]', { timeout: 60_000 });
      await page.waitForFunction(() => {
        const el = document.querySelector('[data-testid=loss-chart]');
        return Number(el?.getAttribute('data-points')) > 0;
      });
      const seen = await seenPoints(page, 'loss-chart');
      const records = metricsOf(workspace, 'bow-a');
      const trainLines = records.filter((r) => r.type === 'train').length;
      const evalLines = records.filter((r) => r.type === 'eval').length;
      assert.ok(
        seen.filter((n) => n > 0).length >= 2,
        `the loss curve was redrawn as points arrived: ${seen}`,
      );
      assert.equal(seen[seen.length - 1], trainLines, 'the final curve has every logged training loss');
      assert.equal(
        Number(await page.getAttribute('[data-testid=dev-chart]', 'data-points')),
        evalLines,
        'one dev point per evaluation',
      );
      await shot('train', false);

      // --- A second run (other learning rate), started from the JSON editor.
      const second = { ...json, trainer: { ...json.trainer, learning_rate: 0.05 } };
      await page.fill('[data-testid=config-json]', JSON.stringify(second, null, 2));
      await page.fill('[data-testid=run-name]', 'bow-b');
      await page.click('[data-testid=start]');
      await page.waitForSelector('[data-testid=run-live] .mono:text("bow-b")');
      await page.waitForSelector('[data-testid=run-live][data-status=done]', { timeout: 60_000 });

      // --- Stop and resume: a long run stopped from the page checkpoints, then resumes where it stopped.
      const long = { ...json, trainer: { ...json.trainer, epochs: 200, save_model_step: 20 } };
      await page.fill('[data-testid=config-json]', JSON.stringify(long, null, 2));
      await page.fill('[data-testid=run-name]', 'bow-long');
      await page.click('[data-testid=start]');
      await page.waitForSelector('[data-testid=run-live] .mono:text("bow-long")');
      await page.waitForSelector('[data-testid=run-live][data-status=running]');
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) > 0,
      );
      await page.click('[data-testid=stop]');
      await page.waitForSelector('[data-testid=run-live][data-status=stopped]', { timeout: 30_000 });
      const stoppedAt = Math.max(...metricsOf(workspace, 'bow-long').map((r) => Number(r.step)));
      assert.equal(await page.isEnabled('[data-testid=resume]'), true);
      await page.click('[data-testid=resume]');
      await page.waitForSelector('[data-testid=run-live][data-status=running]');
      await page.waitForFunction(
        (n) => Number(document.querySelector('[data-testid=run-live]')?.getAttribute('data-step')) > n,
        stoppedAt,
      );
      // Train lines are logged every 3 steps: stop once one past the checkpoint is in metrics.jsonl (the
      // page's step can be ahead of the last logged one).
      const trainedPast = () =>
        metricsOf(workspace, 'bow-long').some((r) => r.type === 'train' && Number(r.step) > stoppedAt);
      for (const t0 = Date.now(); !trainedPast() && Date.now() - t0 < 60_000;)
        await new Promise((r) => setTimeout(r, 100));
      await page.click('[data-testid=stop]');
      await page.waitForSelector('[data-testid=run-live][data-status=stopped]', { timeout: 30_000 });
      const resumed = metricsOf(workspace, 'bow-long').filter((r) => r.type === 'train');
      assert.ok(
        Math.max(...resumed.map((r) => Number(r.step))) > stoppedAt,
        `the resumed run went on past step ${stoppedAt}`,
      );

      // --- Runs: both listed; ticking both overlays their curves.
      await page.click('[data-screen=runs]');
      await page.waitForSelector('[data-testid=runs-table] tr[data-run=bow-b]');
      for (const r of ['bow-a', 'bow-b']) await page.check(`tr[data-run=${r}] input[type=checkbox]`);
      await page.waitForSelector('[data-testid=compare-loss] canvas');
      const overlay = Number(await page.getAttribute('[data-testid=compare-loss]', 'data-points'));
      const trainB = metricsOf(workspace, 'bow-b').filter((r) => r.type === 'train').length;
      assert.equal(overlay, trainLines + trainB, 'the overlay draws both runs’ losses');
      const legend = await page.textContent('[data-testid=compare-loss] .u-legend');
      assert.ok(legend?.includes('bow-a') && legend.includes('bow-b'), `legend names both runs: ${legend}`);
      await shot('runs');
      // The report link serves the run's report.html, the very file the trainer wrote.
      const reportHref = await page.getAttribute('tr[data-run=bow-a] a:text("Report")', 'href');
      assert.equal(
        await (await fetch(studio.url + reportHref)).text(),
        readFileSync(path.join(workspace, 'runs', 'bow-a', 'report.html'), 'utf8'),
      );

      // --- Distil & deploy: export fp32 with its measured speed, then try a sentence.
      await page.click('tr[data-run=bow-a] button:text("Distil & deploy")');
      await page.waitForSelector('[data-testid=export-form]');
      await page.click('[data-testid=export]');
      await page.waitForSelector('[data-testid=export-result]', { timeout: 60_000 });
      const runs = (await (await fetch(`${studio.url}/api/runs`)).json()) as { id: number; name: string }[];
      const a = runs.find((r) => r.name === 'bow-a')!;
      const jobs = (await (await fetch(`${studio.url}/api/jobs`)).json()) as {
        kind: string;
        runId: number;
        result: { qps_b1: number; qps_b32: number; dev_agreement: number };
      }[];
      const exp = jobs.find((j) => j.kind === 'export' && j.runId === a.id)!;
      const cards = await page.$$eval('[data-testid=export-result] .v', (vs) => vs.map((v) => v.textContent));
      assert.deepEqual(cards, [
        exp.result.qps_b1.toFixed(0),
        exp.result.qps_b32.toFixed(0),
        `${(100 * exp.result.dev_agreement).toFixed(1)}%`,
      ]);
      assert.ok(exp.result.qps_b1 > 0 && exp.result.qps_b32 > 0);

      const sentence = lines(path.join(dataDir, 'tang-song.test.tsv'))[0].split('\t')[0];
      await page.fill('[data-testid=try-text]', sentence);
      await page.press('[data-testid=try-text]', 'Enter');
      await page.waitForSelector('[data-testid=predicted-label]');
      const label = await page.textContent('[data-testid=predicted-label]');
      const direct = (await (
        await fetch(`${studio.url}/api/runs/${a.id}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: sentence }),
        })
      ).json()) as { result: { label: string }[] };
      assert.ok(expected.has(label!), `the prediction is one of the file's labels: ${label}`);
      assert.equal(label, direct.result[0].label, 'the page shows what the model answers');
      assert.match((await page.textContent('[data-testid=curl]')) ?? '', /alembic serve[\s\S]*curl/);
      await shot('deploy');
      // The download links give the model and the export as gzip archives.
      for (const what of ['Download model', 'Download export']) {
        const href = await page.getAttribute(`a:text("${what}")`, 'href');
        const got = await fetch(studio.url + href);
        assert.equal(got.status, 200, what);
        const bytes = new Uint8Array(await got.arrayBuffer());
        assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b], `${what} is gzip`);
      }
      await page.selectOption('.lang select', 'zh');
      await shot('deploy-zh');
      await page.selectOption('.lang select', 'en');

      // --- Restart: the runs are still there, with their status and curves.
      assert.equal(await stopStudio(studio), 0);
      studio = await startStudio(workspace);
      await page.goto(studio.url + '/#runs');
      await page.waitForSelector('[data-testid=runs-table] tr[data-run=bow-a]');
      assert.equal(await page.textContent('tr[data-run=bow-a] .st'), 'done');
      await page.click('tr[data-run=bow-a] button:text("Open")');
      await page.waitForSelector('[data-testid=run-live][data-status=done]');
      await page.waitForFunction(
        (n) => Number(document.querySelector('[data-testid=loss-chart]')?.getAttribute('data-points')) === n,
        trainLines,
      );

      // Delete asks for the run's name: the button stays disabled until it is typed; then the run and its
      // folder are gone and the other run stays.
      await page.click('[data-screen=runs]');
      await page.click('tr[data-run=bow-b] button:text("Delete")');
      const confirm = page.locator('[data-testid=delete-dialog]');
      await confirm.locator('input').fill('bow-');
      assert.equal(await confirm.locator('button[type=submit]').isDisabled(), true);
      await confirm.locator('input').fill('bow-b');
      await confirm.locator('input').press('Enter');
      await page.waitForSelector('tr[data-run=bow-b]', { state: 'detached' });
      assert.equal(existsSync(path.join(workspace, 'runs', 'bow-b')), false);
      assert.equal(existsSync(path.join(workspace, 'runs', 'bow-a', 'metrics.jsonl')), true);
      await page.waitForSelector('tr[data-run=bow-a]');

      assert.deepEqual(external, [], 'no request left the studio');
      assert.deepEqual(pageErrors, [], 'the page threw nothing');
    });
  },
);
