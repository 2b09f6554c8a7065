/**
 * Plain-text rendering of an Advice: English, with the guide's Chinese terms in parentheses where they help
 * the reader find the passage in the guide.
 */
import type { Advice, StepAdvice } from './advise.js';
import { describeCandidate } from './candidates.js';
import type { Hyperparams } from './hyperparams.js';
import type { RuleOutcome } from './rules.js';
import type { Spec } from './spec.js';
import { fmt } from './spec.js';
import type { PipelineStep } from './task-mapping.js';

const INDENT = '  ';

export function renderAdvice(advice: Advice): string {
  const lines: string[] = [`Advice for "${advice.name}" (${advice.source})`, ''];
  lines.push('TASK', ...renderPlan(advice), '');
  lines.push('CONSTRAINTS', ...renderConstraints(advice.spec).map((l) => INDENT + l), '');
  if (advice.shared.length > 0) {
    lines.push('RULES FOR EVERY STEP', ...renderOutcomes(advice.shared, INDENT), '');
  }
  advice.steps.forEach((s, i) => {
    const title = advice.steps.length > 1 ? `STEP ${i + 1}: ${s.step.name}` : 'SCHEME';
    lines.push(title, ...renderStep(s), '');
  });
  if (advice.warnings.length > 0) {
    lines.push('WARNINGS', ...advice.warnings.map((w) => `${INDENT}! ${w}`), '');
  }
  return lines.join('\n');
}

function renderPlan(advice: Advice): string[] {
  const { plan } = advice;
  const lines: string[] = [];
  if (plan.kind === 'pipeline') lines.push(`${INDENT}A pipeline (流水线) of ${plan.steps.length} steps:`);
  if (plan.kind === 'multi_output') lines.push(`${INDENT}${plan.steps.length} models, easiest first:`);
  plan.steps.forEach((step, i) => {
    const prefix = plan.steps.length > 1 ? `${i + 1}. ` : '';
    lines.push(...renderTask(step, prefix).map((l) => INDENT + l));
  });
  for (const note of plan.notes) lines.push(`${INDENT}Why: ${note.text}`);
  return lines;
}

function renderTask(step: PipelineStep, prefix: string): string[] {
  const t = step.typical;
  const pad = ' '.repeat(prefix.length + 2);
  const lines = [`${prefix}${step.name} → ${t.en} (${t.zh})`];
  lines.push(`${pad}typical uses: ${t.uses.join('; ')}`);
  lines.push(`${pad}guide example: ${t.example.replace(/\t/g, ' ⇥ ')}`);
  if (step.labels && step.labels.count > 0) {
    const names = step.labels.names ? `: ${step.labels.names.join(', ')}` : '';
    lines.push(`${pad}labels (${step.labels.count})${names}`);
  }
  if (step.numericFeatures.length > 0)
    lines.push(`${pad}numeric features: ${step.numericFeatures.join(', ')}`);
  if (step.after !== undefined) lines.push(`${pad}reads the output of step ${step.after + 1}`);
  if (step.postprocess) lines.push(`${pad}then: ${step.postprocess}`);
  return lines;
}

function renderConstraints(spec: Spec): string[] {
  const c = spec.constraints;
  const { training, serving } = spec.hardware;
  const speed = [
    c.qps !== undefined ? `QPS ${fmt(c.qps)}` : 'no QPS target',
    c.latency_ms !== undefined ? `latency ${c.latency_ms} ms (no guide rule; verify by measuring)` : '',
  ].filter((s) => s !== '');
  const gpu = spec.budget.gpu_allowed === undefined ? 'not stated' : spec.budget.gpu_allowed ? 'yes' : 'no';
  const trainHw =
    training.device === 'gpu'
      ? `GPU, ${training.gpus} card(s) × ${training.machines} machine(s)`
      : `CPU × ${training.machines} machine(s)`;
  const data = [`${fmt(spec.data.labelled)} labelled`, `${fmt(spec.data.unlabelled)} unlabelled`];
  const acc = c.accuracy
    ? `metric ${c.accuracy.metric}${c.accuracy.target !== undefined ? `, target ${c.accuracy.target}` : ''}`
    : 'no metric given';
  return [
    speed.join(' · '),
    `serving: ${serving.device.toUpperCase()} × ${serving.machines} machine(s) · training: ${trainHw} · budget allows GPUs: ${gpu}`,
    `data: ${data.join(', ')} · ${acc}${c.iteration_hours !== undefined ? ` · ${c.iteration_hours} h per iteration` : ''}`,
  ];
}

function renderStep(s: StepAdvice): string[] {
  const { scheme } = s;
  const lines = [`${INDENT}Networks to serve, best first:`];
  scheme.serve.forEach((c, i) =>
    lines.push(`${INDENT}${INDENT}${i + 1}. ${describeCandidate(c)} — ${c.why}`),
  );
  if (scheme.excluded.length > 0) {
    const list = scheme.excluded.map(
      (e) => `${e.id} (${e.from === 'train' ? 'not trained' : 'not served'}: ${e.rule})`,
    );
    lines.push(`${INDENT}Left out: ${list.join(', ')}`);
  }
  const d = scheme.distillation;
  if (d) {
    const method = d.method === 'model' ? 'model distillation (模型蒸馏)' : 'data distillation (数据蒸馏)';
    lines.push(`${INDENT}Teacher: ${describeCandidate(d.teacher)} → ${method}`);
  }
  const top = scheme.serve[0];
  const role = d ? 'student' : 'served model';
  lines.push(...renderHyperparams(`${describeCandidate(top)} (${role})`, s.serve, s.metric));
  if (s.teacher && scheme.teacher) {
    lines.push(...renderHyperparams(`${describeCandidate(scheme.teacher)} (teacher)`, s.teacher, s.metric));
  }
  if (s.outcomes.length > 0) lines.push(`${INDENT}Rules:`, ...renderOutcomes(s.outcomes, INDENT + INDENT));
  return lines;
}

function renderHyperparams(what: string, hp: Hyperparams, metric: string): string[] {
  const p = INDENT + INDENT;
  return [
    `${INDENT}Training the ${what} on ${fmt(hp.trainExamples)} examples:`,
    `${p}batch_size ${hp.batchSize} · learning_rate ${hp.learningRate} · epochs ${hp.epochs} · max_len ${hp.maxLen} · early stopping on ${metric}`,
    `${p}train_log_step ${hp.trainLogStep} · eval_step ${hp.evalStep} · save_model_step ${hp.saveModelStep} ` +
      `(${fmt(hp.stepsPerEpoch)} steps per epoch, ${fmt(hp.totalSteps)} in all)`,
    ...hp.notes.map((n) => `${p}- ${n}`),
  ];
}

function renderOutcomes(outcomes: readonly RuleOutcome[], indent: string): string[] {
  return outcomes.flatMap((o) => [
    `${indent}${o.kind === 'warning' ? '!' : '•'} ${o.recommendation} [${o.rule}]`,
    `${indent}  why: ${o.reason}`,
  ]);
}
