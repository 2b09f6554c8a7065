/**
 * `alembic advise`: from a spec (a file, or answers to its questions) to advice — the typical task(s),
 * networks, distillation and training settings — and optionally to ready training configs and to a
 * measurement of the candidate networks on the user's own data and machine.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { adviseFromSpec, type Advice } from '../advise/advise.js';
import { ALL_CANDIDATE_IDS, describeCandidate, type CandidateId } from '../advise/candidates.js';
import { adviceToConfig, type DataPaths, type TrainingConfig } from '../advise/config-writer.js';
import { interviewSpec, type Prompter } from '../advise/interview.js';
import { measureAdvice } from '../advise/measure.js';
import { renderAdvice } from '../advise/render.js';
import { recommendedIds, renderMeasureText, type MeasureReport } from '../advise/advice-report.js';
import type { TaskName } from '../advise/task-mapping.js';
import { parseConfig } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { positiveNumber, positiveInt, runCommand } from './run.js';

interface AdviseOptions {
  spec?: string;
  json?: boolean;
  writeConfig?: string;
  force?: boolean;
  interactive?: boolean;
  saveSpec?: string;
  data?: string;
  dev?: string;
  test?: string;
  measure?: boolean;
  budgetMinutes: string;
  out?: string;
  candidates?: string;
  step: string;
  threads?: string;
}

/** The flags after checking (inside runCommand, so a bad value is a one-line error and exit 2). */
interface Flags {
  budgetMinutes: number;
  candidates?: CandidateId[];
  step: number;
  threads?: number;
}

export function registerAdvise(program: Command): void {
  program
    .command('advise')
    .description(
      'advise networks, distillation and training settings for a problem spec; optionally write configs and measure the candidates',
    )
    .option('-s, --spec <file>', 'the problem spec (JSON; see examples/advise/)')
    .option(
      '-i, --interactive',
      "answer the spec's questions on the terminal (the --spec file's values are the defaults)",
    )
    .option('--save-spec <file>', 'with --interactive: save the answers as a spec file')
    .option('--json', 'print JSON: {advice, configs?, measurement?}')
    .option(
      '--write-config <dir>',
      'write a training config per pipeline step (and the teacher’s) into <dir>',
    )
    .option('--force', 'overwrite existing config files')
    .option('--data <file>', 'labelled training data (used by --measure and in the written configs)')
    .option('--dev <file>', 'dev data (default for --measure: split off the training data)')
    .option('--test <file>', 'test data (for the written configs)')
    .option('--measure', 'train the candidates briefly on --data and time them on this machine')
    .option('--budget-minutes <m>', 'time for the whole measurement', '10')
    .option('--out <dir>', 'where measurement runs and reports go (default: a new temporary folder)')
    .option('--candidates <ids>', `networks to measure, comma-separated (${ALL_CANDIDATE_IDS.join(', ')})`)
    .option('--step <n>', 'pipeline step to measure, and that --data belongs to (1 = first)', '1')
    .option('--threads <n>', 'inference threads when timing (default: all cores)')
    .action((opts: AdviseOptions) => runCommand(() => advise(opts))());
}

function checkFlags(opts: AdviseOptions): Flags {
  const flags: Flags = {
    budgetMinutes: positiveNumber('--budget-minutes')(opts.budgetMinutes),
    step: positiveInt('--step')(opts.step),
  };
  if (opts.candidates !== undefined) flags.candidates = candidateList(opts.candidates);
  if (opts.threads !== undefined) flags.threads = positiveInt('--threads')(opts.threads);
  return flags;
}

async function advise(opts: AdviseOptions): Promise<void> {
  const flags = checkFlags(opts);
  if (opts.spec === undefined && !opts.interactive) {
    throw new UserError('--spec: give a spec file, or --interactive to answer its questions');
  }
  if (opts.measure && opts.data === undefined)
    throw new UserError('--measure needs --data (the labelled training file)');
  if (opts.saveSpec !== undefined && !opts.interactive)
    throw new UserError('--save-spec goes with --interactive');
  let raw: unknown = opts.spec === undefined ? {} : readJsonFile(opts.spec, 'spec file');
  let source = opts.spec ?? 'interactive';
  if (opts.interactive) {
    raw = await askQuestions(raw);
    if (opts.saveSpec !== undefined) {
      writeFileSync(opts.saveSpec, JSON.stringify(raw, null, 2) + '\n');
      process.stderr.write(`wrote ${opts.saveSpec}\n`);
      source = opts.saveSpec;
    }
  }
  const advice = adviseFromSpec(raw, source);
  if (flags.step > advice.steps.length) {
    throw new UserError(`--step: ${flags.step} is not a step of the advice (it has ${advice.steps.length})`);
  }
  const specDir = path.dirname(path.resolve(source));
  if (!opts.json) process.stdout.write(renderAdvice(advice) + '\n');
  let measurement: MeasureReport | undefined;
  if (opts.measure) {
    const outDir = opts.out ?? mkdtempSync(path.join(os.tmpdir(), 'alembic-advise-'));
    measurement = await measureAdvice(advice, {
      train: opts.data!,
      dev: opts.dev,
      budgetSeconds: flags.budgetMinutes * 60,
      outDir,
      step: flags.step - 1,
      candidates: flags.candidates,
      specDir,
      threads: flags.threads,
    });
    if (!opts.json) process.stdout.write(renderMeasureText(measurement));
  }
  // Written after measuring, so the served config of the measured step is the measured winner.
  const winner = measurement && recommendedIds(measurement.recommendation)[0];
  const configs =
    opts.writeConfig === undefined
      ? undefined
      : writeConfigs(advice, opts.writeConfig, opts, flags.step, specDir, winner);
  if (configs && !opts.json) {
    const followed = winner ? ` (step ${flags.step} serves the measured winner, ${winner})` : '';
    process.stdout.write(`CONFIGS${followed}\n${configs.map((c) => `  ${c}`).join('\n')}\n\n`);
  }
  if (opts.json) {
    const out = { advice, ...(configs && { configs }), ...(measurement && { measurement }) };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  }
}

/** The questions on stderr (stdout stays clean for --json); answers from stdin, typed or piped. */
async function askQuestions(start: unknown): Promise<Record<string, unknown>> {
  const base = start !== null && typeof start === 'object' && !Array.isArray(start) ? start : {};
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: tty });
  // An iterator buffers lines that arrive before they are asked for (piped input arrives all at once).
  const lines = rl[Symbol.asyncIterator]();
  const prompter: Prompter = {
    async ask(question) {
      rl.setPrompt(question);
      rl.prompt();
      const next = await lines.next();
      if (next.done) {
        process.stderr.write('\n');
        return undefined;
      }
      if (!tty) process.stderr.write(next.value + '\n');
      return next.value;
    },
    say: (line) => void process.stderr.write(line + '\n'),
  };
  try {
    return await interviewSpec(prompter, base as Record<string, unknown>);
  } finally {
    rl.close();
  }
}

/**
 * One config per pipeline step for the served network, plus the teacher's when the step distils. All are
 * validated before any is written; data paths are relative to the config folder (as `alembic train` reads
 * them), and are placeholders under data/ where no file was given.
 */
function writeConfigs(
  advice: Advice,
  dir: string,
  opts: AdviseOptions,
  dataStep: number,
  specDir: string,
  measuredWinner?: CandidateId,
): string[] {
  const planned: { file: string; config: Record<string, unknown> }[] = [];
  advice.steps.forEach((s, i) => {
    const roles: ('serve' | 'teacher')[] = s.scheme.teacher ? ['serve', 'teacher'] : ['serve'];
    for (const role of roles) {
      const { paths, placeholders } = dataPaths(advice, i, i === dataStep - 1 ? opts : {}, dir);
      const serve = i === dataStep - 1 ? measuredWinner : undefined;
      const config = adviceToConfig(advice, paths, { step: i, role, serve });
      rebaseCheckpointPaths(config, specDir, dir);
      const file = path.join(dir, `${path.basename(config.trainer.output_dir)}.json`);
      const notes = [configNote(advice, i, role)];
      if (placeholders)
        notes.push('Dataset paths are placeholders: point them at your files (relative to this file).');
      planned.push({ file, config: { '//': notes.join(' '), ...config } });
    }
  });
  for (const p of planned) parseConfig(p.config, p.file);
  if (!opts.force) {
    const existing = planned.filter((p) => existsSync(p.file)).map((p) => p.file);
    if (existing.length > 0) throw new UserError(`${existing.join(', ')}: exists (use --force to overwrite)`);
  }
  mkdirSync(dir, { recursive: true });
  for (const p of planned) writeFileSync(p.file, JSON.stringify(p.config, null, 2) + '\n');
  return planned.map((p) => p.file);
}

const DATA_EXT: Partial<Record<TaskName, string>> = { reading_comprehension: 'json', language_model: 'txt' };

function dataPaths(
  advice: Advice,
  index: number,
  opts: Pick<AdviseOptions, 'data' | 'dev' | 'test'>,
  dir: string,
): { paths: DataPaths; placeholders: boolean } {
  if (opts.data !== undefined) {
    const rel = (f: string | undefined) =>
      f === undefined ? undefined : path.relative(dir, path.resolve(f));
    const paths: DataPaths = { train: rel(opts.data)! };
    if (opts.dev !== undefined) paths.dev = rel(opts.dev);
    if (opts.test !== undefined) paths.test = rel(opts.test);
    return { paths, placeholders: false };
  }
  const task = advice.steps[index].step.task;
  const ext = DATA_EXT[task] ?? 'tsv';
  const folder = advice.steps.length > 1 ? `data/step${index + 1}-${task}` : 'data';
  return {
    paths: { train: `${folder}/train.${ext}`, dev: `${folder}/dev.${ext}`, test: `${folder}/test.${ext}` },
    placeholders: true,
  };
}

/** Checkpoint paths in a spec are relative to the spec; in a config, to the config. */
function rebaseCheckpointPaths(config: TrainingConfig, specDir: string, dir: string): void {
  const rebase = (p: string) => (path.isAbsolute(p) ? p : path.relative(dir, path.resolve(specDir, p)));
  if (config.model.pretrained_dir !== undefined)
    config.model.pretrained_dir = rebase(config.model.pretrained_dir);
  const tok = config.dataset.tokenizer;
  if (tok.vocab !== undefined) tok.vocab = rebase(tok.vocab);
}

function configNote(advice: Advice, index: number, role: 'serve' | 'teacher'): string {
  const s = advice.steps[index];
  const where = advice.steps.length > 1 ? `step ${index + 1} (${s.step.name})` : s.step.name;
  const d = s.scheme.distillation;
  if (role === 'teacher' && d) {
    return (
      `Teacher for ${where}: train it first on the labelled data; it then teaches ${describeCandidate(d.student)} ` +
      `by ${d.method} distillation.`
    );
  }
  if (d) {
    const data =
      d.method === 'data'
        ? 'train it on the labelled data plus the texts the teacher labelled'
        : 'train it on the teacher’s soft labels plus the true labels';
    return `Student for ${where}, served: ${data}. Generated by alembic advise.`;
  }
  return `Served network for ${where}. Generated by alembic advise.`;
}

function candidateList(v: string): CandidateId[] {
  const ids = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const id of ids) {
    if (!(ALL_CANDIDATE_IDS as readonly string[]).includes(id)) {
      throw new UserError(`--candidates: unknown network "${id}" (${ALL_CANDIDATE_IDS.join(', ')})`);
    }
  }
  if (ids.length === 0) throw new UserError('--candidates: name at least one network');
  return ids as CandidateId[];
}
