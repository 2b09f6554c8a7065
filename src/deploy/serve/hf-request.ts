/**
 * The Hugging Face Inference request shape of POST /predict, accepted beside alembic's own {"texts"} /
 * {"pairs"} so clients written for HF endpoints work unchanged:
 *   {"inputs": "…"}                                  one text
 *   {"inputs": ["…", …]}                             a batch
 *   {"inputs": {"text": "…", "text_pair": "…"}}      one pair (pair tasks); an array of them for a batch
 *   {"parameters": {"top_k": n}}                     how many labels to return per input (classification)
 * Checked by hand, like request-body.ts, so every refusal names the field at fault.
 */
import type { PredictInput } from '../predictor.js';
import { checkText, describe, isPairTask, RequestError, type BodyLimits } from './request-body.js';

export interface HfRequest {
  inputs: PredictInput[];
  /** Whether `inputs` was an array: the answer is then one result per input. */
  batched: boolean;
  /** Labels per input; undefined means the pipeline's default (1, or every predicted label for multi-label). */
  topK?: number;
}

/** Whether a parsed body uses the HF shape (has "inputs"). */
export function isHfBody(body: unknown): body is { inputs: unknown } {
  return body !== null && typeof body === 'object' && !Array.isArray(body) && 'inputs' in body;
}

/** "options" (wait_for_model, use_cache) is about HF's hosted queue; it has no meaning here and is ignored. */
const KNOWN = new Set(['inputs', 'parameters', 'options']);

export function parseHfBody(body: { inputs: unknown }, task: string, limits: BodyLimits): HfRequest {
  const obj = body as Record<string, unknown>;
  const unknown = Object.keys(obj).find((k) => !KNOWN.has(k));
  if (unknown) throw new RequestError(400, `body: unknown field "${unknown}" beside "inputs"`);
  const batched = Array.isArray(obj.inputs);
  const list = batched ? (obj.inputs as unknown[]) : [obj.inputs];
  if (list.length === 0) throw new RequestError(400, 'inputs: is empty; send at least one input');
  if (list.length > limits.maxInputs)
    throw new RequestError(
      413,
      `inputs: ${list.length} inputs is more than the limit of ${limits.maxInputs} per request`,
    );
  const pair = isPairTask(task);
  const inputs = list.map((v, i) => oneInput(v, batched ? `inputs[${i}]` : 'inputs', pair, task, limits));
  return { inputs, batched, topK: topKOf(obj.parameters) };
}

function oneInput(v: unknown, where: string, pair: boolean, task: string, limits: BodyLimits): PredictInput {
  if (typeof v === 'string') {
    if (pair) throw new RequestError(400, `${where}: this model (${task}) takes {"text": …, "text_pair": …}`);
    return { text: checkText(v, where, limits) };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new RequestError(400, `${where}: expected a string or {"text", "text_pair"}, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => k !== 'text' && k !== 'text_pair');
  if (extra) throw new RequestError(400, `${where}: unknown field "${extra}"; expected "text", "text_pair"`);
  const text = checkText(o.text, `${where}.text`, limits);
  if (!pair) {
    if (o.text_pair !== undefined)
      throw new RequestError(400, `${where}.text_pair: this model (${task}) takes one text, not a pair`);
    return { text };
  }
  if (o.text_pair === undefined) throw new RequestError(400, `${where}: missing "text_pair"`);
  return { text, textB: checkText(o.text_pair, `${where}.text_pair`, limits) };
}

function topKOf(parameters: unknown): number | undefined {
  if (parameters === undefined) return undefined;
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters))
    throw new RequestError(400, `parameters: expected an object, got ${describe(parameters)}`);
  const p = parameters as Record<string, unknown>;
  const extra = Object.keys(p).find((k) => k !== 'top_k');
  if (extra) throw new RequestError(400, `parameters: unknown field "${extra}"; alembic takes "top_k"`);
  const k = p.top_k;
  if (k === undefined || k === null) return undefined;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1)
    throw new RequestError(
      400,
      `parameters.top_k: expected a whole number of at least 1, got ${JSON.stringify(k)}`,
    );
  return k;
}
