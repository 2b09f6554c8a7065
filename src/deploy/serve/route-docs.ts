/**
 * The service's own routes as GET /openapi.json describes them (openapi.ts): each is registered with its
 * entry here (server.ts), so a route and its description are added together. Schema names refer to
 * api-schemas.ts.
 */
import type { ResponseDoc, RouteDoc } from './openapi.js';

/** The refusals a prediction route can answer with. */
const PREDICT_ERRORS: Record<number, ResponseDoc> = {
  400: { description: 'Bad input; `error` names the field.', schema: 'Error' },
  404: { description: 'No such model.', schema: 'Error' },
  408: { description: 'The request took too long to arrive.', schema: 'Error' },
  413: { description: 'Body, input count or a text over the limits.', schema: 'Error' },
  415: { description: 'Unknown content encoding.', schema: 'Error' },
  503: { description: 'Queue full or shutting down (with Retry-After).', schema: 'Error' },
};

/** Each route's description in GET /openapi.json. */
export const ROUTE_DOCS = {
  index: {
    summary: 'Where to start: the OpenAPI document, the demo page (when served) and the routes.',
    responses: { 200: { description: 'Pointers.', schema: 'Index' } },
  },
  openapi: {
    summary: 'This OpenAPI 3.1 document.',
    responses: { 200: { description: 'The document.', schema: { type: 'object' } } },
  },
  healthz: {
    summary: 'Liveness: 200 while serving, 503 while shutting down.',
    responses: {
      200: { description: 'Serving.', schema: 'Health' },
      503: { description: 'Shutting down.', schema: 'Error' },
    },
  },
  models: {
    summary: 'The loaded models: names, tasks and labels, the default first.',
    responses: { 200: { description: 'The models.', schema: 'Models' } },
  },
  metrics: {
    summary: 'Prometheus metrics (text exposition format 0.0.4).',
    responses: {
      200: { description: 'The metrics.', schema: { type: 'string' }, contentType: 'text/plain' },
    },
  },
  predict: {
    summary: 'Predict with the default model.',
    description:
      'alembic\'s shape {"texts": […]} / {"pairs": [[a, b], …]} answers {"model", "predictions"}; the Hugging Face Inference shape {"inputs": …, "parameters": {"top_k": n}} answers in HF pipeline shapes.',
    requestBody: 'PredictRequest',
    responses: {
      200: { description: 'The predictions, in the shape of the request.', schema: 'PredictResponse' },
      ...PREDICT_ERRORS,
    },
  },
  modelPredict: {
    summary: 'Predict with the model named in the path (same bodies and answers as POST /predict).',
    params: { name: 'A model name from GET /models.' },
    requestBody: 'PredictRequest',
    responses: {
      200: { description: 'The predictions, in the shape of the request.', schema: 'PredictResponse' },
      ...PREDICT_ERRORS,
    },
  },
} satisfies Record<string, RouteDoc>;
