/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the service's requests and answers: the `components`
 * of GET /openapi.json, referenced from each route's description (route-docs.ts, the demo's in web/demo-routes.ts). The request bodies are
 * still checked by hand (request-body.ts, hf-request.ts) for refusals that name the field at fault; these
 * schemas describe the same shapes for clients.
 */
type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const text: Schema = { type: 'string', description: "At most the service's --max-text-chars code points." };
const pairObject: Schema = {
  type: 'object',
  properties: { text, text_pair: text },
  required: ['text'],
  additionalProperties: false,
};
const labelScore: Schema = {
  type: 'object',
  properties: { label: { type: 'string' }, score: { type: 'number' } },
  required: ['label', 'score'],
};
const entity: Schema = {
  type: 'object',
  properties: {
    entity_group: { type: 'string' },
    word: { type: 'string' },
    start: { type: 'integer', description: 'Character offset into the input, inclusive.' },
    end: { type: 'integer', description: 'Character offset into the input, exclusive.' },
    score: { type: 'number' },
  },
  required: ['entity_group', 'word', 'start', 'end', 'score'],
};
const hfResult: Schema = {
  oneOf: [
    { type: 'array', items: labelScore, description: 'Classification, sorted by score.' },
    { type: 'array', items: entity, description: 'Sequence labelling.' },
    {
      type: 'object',
      properties: { score: { type: 'number' } },
      required: ['score'],
      description: 'Text matching.',
    },
  ],
};

export const API_SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    properties: { error: { type: 'string', description: 'Why the request was refused.' } },
    required: ['error'],
  },
  AlembicPredictRequest: {
    type: 'object',
    description:
      '`texts` for single-text models, `pairs` for pair models (text-pair classification, matching).',
    properties: {
      texts: { type: 'array', items: text, minItems: 1 },
      pairs: { type: 'array', items: { type: 'array', items: text, minItems: 2, maxItems: 2 }, minItems: 1 },
    },
    additionalProperties: false,
  },
  HfPredictRequest: {
    type: 'object',
    description: 'The Hugging Face Inference shape.',
    properties: {
      inputs: {
        oneOf: [text, pairObject, { type: 'array', items: { oneOf: [text, pairObject] }, minItems: 1 }],
      },
      parameters: {
        type: 'object',
        properties: { top_k: { type: ['integer', 'null'], minimum: 1 } },
        additionalProperties: false,
      },
      options: { type: 'object', description: 'Accepted and ignored (HF hosted-queue options).' },
    },
    required: ['inputs'],
    additionalProperties: false,
  },
  PredictRequest: { oneOf: [ref('AlembicPredictRequest'), ref('HfPredictRequest')] },
  Prediction: {
    type: 'object',
    properties: {
      label: { type: 'string', description: 'The predicted label (absent for multi-label models).' },
      labels: { type: 'array', items: { type: 'string' } },
      probabilities: { type: 'object', additionalProperties: { type: 'number' } },
    },
    required: ['labels', 'probabilities'],
  },
  AlembicPredictResponse: {
    type: 'object',
    properties: { model: { type: 'string' }, predictions: { type: 'array', items: ref('Prediction') } },
    required: ['model', 'predictions'],
  },
  HfResult: hfResult,
  HfPredictResponse: {
    description: 'One result for a single input, an array of results for an array of inputs.',
    oneOf: [ref('HfResult'), { type: 'array', items: ref('HfResult') }],
  },
  PredictResponse: { oneOf: [ref('AlembicPredictResponse'), ref('HfPredictResponse')] },
  Models: {
    type: 'object',
    properties: {
      default: { type: 'string' },
      models: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            task: { type: 'string' },
            labels: { type: 'array', items: { type: 'string' } },
          },
          required: ['name', 'task', 'labels'],
        },
      },
    },
    required: ['default', 'models'],
  },
  Health: {
    type: 'object',
    properties: { status: { type: 'string' }, models: { type: 'array', items: { type: 'string' } } },
    required: ['status', 'models'],
  },
  Index: {
    type: 'object',
    properties: {
      service: { type: 'string' },
      openapi: { type: 'string' },
      demo: { type: 'string' },
      routes: { type: 'array', items: { type: 'string' } },
    },
    required: ['service', 'openapi', 'routes'],
  },
};

export { ref as schemaRef };
