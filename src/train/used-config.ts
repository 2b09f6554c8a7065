/**
 * The config as the run used it, for the report: the parsed config fills every model key with a default
 * whatever the net, so a CNN's dump would list num_heads and a head: crf it never read. This keeps, of the
 * model section, only the keys the chosen net and task read; the rest of the config is shown whole.
 */
const NET_KEYS: Record<string, readonly string[]> = {
  bow: ['hidden_size', 'ngrams', 'buckets', 'char_ngrams', 'bow', 'token_weights', 'init_std'],
  cnn: ['kernel_widths', 'num_filters'],
  gru: ['hidden_size', 'num_layers', 'bidirectional', 'pooling'],
  lstm: ['hidden_size', 'num_layers', 'bidirectional', 'pooling'],
  transformer: [
    'hidden_size',
    'num_layers',
    'num_heads',
    'ffn_size',
    'max_positions',
    'pretrained_dir',
    'encoder_config',
    'pooling',
  ],
};

/** Model keys only some tasks read. */
const TASK_KEYS: Record<string, readonly string[]> = {
  sequence_labeling: ['head'],
  text_matching: ['matching_head'],
  reading_comprehension: ['max_answer_len'],
  multi_label_classification: ['threshold'],
};

const TASK_ONLY = new Set(Object.values(TASK_KEYS).flat());

export function usedConfig(config: { task: string; model: Record<string, unknown> }): unknown {
  const netKeys = NET_KEYS[String(config.model.net)];
  if (netKeys === undefined) return config;
  const allNetKeys = new Set(Object.values(NET_KEYS).flat());
  const keep = new Set([...netKeys, ...(TASK_KEYS[config.task] ?? [])]);
  const model = Object.fromEntries(
    Object.entries(config.model).filter(
      ([key]) => keep.has(key) || (!allNetKeys.has(key) && !TASK_ONLY.has(key)),
    ),
  );
  return { ...config, model };
}
