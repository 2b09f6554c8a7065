/**
 * Guide §2: turn the business problem (X, Y) into typical, well-solved NLP tasks, or a pipeline of them.
 * Supervised, deep-learning formulations are chosen over unsupervised ones (§2.2.3, §2.2.4) and composite
 * problems are split into simple steps (§2.2.2); independent outputs become separate models, easiest first
 * (§2.2.1), rather than one multi-task model (§2.1.7).
 */
import type { OutputSpec, Spec } from './spec.js';
import { labelCountsOf, labelList } from './spec.js';

/** The training config's task names. */
export type TaskName =
  | 'text_classification'
  | 'text_pair_classification'
  | 'multi_label_classification'
  | 'sequence_labeling'
  | 'text_matching'
  | 'reading_comprehension'
  | 'text_generation'
  | 'language_model';

export type TypicalTaskKey = TaskName | 'mixed_feature_classification';

export interface TypicalTask {
  key: TypicalTaskKey;
  task: TaskName;
  en: string;
  zh: string;
  uses: string[];
  /** The guide's own example, one line of data. */
  example: string;
  /** Position in the guide's easy-to-hard order (§2.2.1a): lower is easier. */
  ease: number;
}

export const TYPICAL_TASKS: Record<TypicalTaskKey, TypicalTask> = {
  text_classification: {
    key: 'text_classification',
    task: 'text_classification',
    en: 'text classification',
    zh: '文本多分类',
    uses: ['sentiment analysis (情感分析)'],
    example: '房间 太 小 。 其他 的 都 一般\t0',
    ease: 1,
  },
  text_pair_classification: {
    key: 'text_pair_classification',
    task: 'text_pair_classification',
    en: 'sentence-pair classification',
    zh: '句对分类',
    uses: ['natural language inference (NLI)'],
    example: '大家觉得她好看吗\t大家觉得跑男好看吗?\t0',
    ease: 1,
  },
  multi_label_classification: {
    key: 'multi_label_classification',
    task: 'multi_label_classification',
    en: 'multi-label classification',
    zh: '文本多标签分类',
    uses: ['user comment classification (用户评论分类)', 'porn/abuse detection (黄反识别)'],
    example: '互联网创业就如选秀 需求与服务就是价值\t0 1',
    ease: 1,
  },
  mixed_feature_classification: {
    key: 'mixed_feature_classification',
    task: 'text_classification',
    en: 'mixed-feature classification',
    zh: '混合特征的分类',
    uses: [
      'CTR prediction (CTR预估): will the user click, given text and numbers such as past CTR and ad position',
    ],
    example: 'ad title\t<numeric columns: historical CTR, ad position, hour, …>\tclick / no click',
    ease: 1,
  },
  text_matching: {
    key: 'text_matching',
    task: 'text_matching',
    en: 'text matching',
    zh: '文本匹配',
    uses: ['semantic similarity (语义相似度)', 'similar-question matching (相似问题匹配)', 'text clustering'],
    example: '喜欢 打篮球 的 男生 喜欢 什么样 的 女生\t爱 打篮球 的 男生 喜欢 什么样 的 女生\t1',
    ease: 2,
  },
  sequence_labeling: {
    key: 'sequence_labeling',
    task: 'sequence_labeling',
    en: 'sequence labelling',
    zh: '序列标注',
    uses: ['word segmentation (分词)', 'POS tagging', 'NER', 'slot filling (词槽挖掘)'],
    example:
      '海 钓 比 赛 地 点 在 厦 门 与 金 门 之 间 的 海 域 。\tO O O O O O O B-LOC I-LOC O B-LOC I-LOC O O O O O O',
    ease: 3,
  },
  text_generation: {
    key: 'text_generation',
    task: 'text_generation',
    en: 'text generation',
    zh: '文本生成',
    uses: ['machine translation', 'summarisation', 'headline generation'],
    example: 'Rachel Pike : The science behind a climate headline\tKhoa học đằng sau một tiêu đề về khí hậu',
    ease: 4,
  },
  language_model: {
    key: 'language_model',
    task: 'language_model',
    en: 'language model',
    zh: '语言模型',
    // §2.1.5a: predicting the next word is "a special kind of text classification", hence ease 1.
    uses: ['sentence likelihood / perplexity', 'next-word prediction'],
    example:
      '<s> but some analysts remain sour on the company\tbut some analysts remain sour on the company <e>',
    ease: 1,
  },
  reading_comprehension: {
    key: 'reading_comprehension',
    task: 'reading_comprehension',
    en: 'reading comprehension',
    zh: '阅读理解',
    uses: ['answer extraction from a passage'],
    example:
      'passage: 爬行垫根据中间材料的不同可以分为:XPE爬行垫、EPE爬行垫… | question: 爬行垫什么材质的好 → answer: XPE',
    ease: 5,
  },
};

export interface LabelSet {
  names?: string[];
  count: number;
  /** Examples per label, when the spec gives them. */
  counts?: Record<string, number>;
}

export interface PipelineStep {
  /** What this step does, in business words ("entity recognition"). */
  name: string;
  typical: TypicalTask;
  task: TaskName;
  labels?: LabelSet;
  numericFeatures: string[];
  /** Index of the step whose output this one reads, for pipelines. */
  after?: number;
  /** What happens to the model's output before the user sees it (e.g. sorting by score). */
  postprocess?: string;
}

/** A note on how the problem was abstracted and why. */
export interface TaskNote {
  text: string;
}

export interface TaskPlan {
  kind: 'single' | 'pipeline' | 'multi_output';
  steps: PipelineStep[];
  notes: TaskNote[];
}

/** Maps the spec's X and Y onto typical tasks (§2.1) and, where needed, a pipeline (§2.2). */
export function planTasks(spec: Spec): TaskPlan {
  const groups = spec.outputs.map((out) => mapOutput(spec, out));
  if (groups.length === 1) {
    const [g] = groups;
    return { kind: g.steps.length > 1 ? 'pipeline' : 'single', steps: g.steps, notes: g.notes };
  }
  // Several outputs (§2.1.7): separate models, easiest first (§2.2.1), each pipeline kept in its own order.
  const ordered = groups
    .map((g, i) => ({ g, i }))
    .sort((a, b) => a.g.steps[0].typical.ease - b.g.steps[0].typical.ease || a.i - b.i)
    .map(({ g }) => g);
  const steps: PipelineStep[] = [];
  const notes: TaskNote[] = [
    {
      text:
        'Several outputs could be one multi-task model (多任务学习), but simple tasks come first: ' +
        'train one model per output, starting with the easiest.',
    },
  ];
  for (const g of ordered) {
    const offset = steps.length;
    steps.push(...g.steps.map((s) => (s.after === undefined ? s : { ...s, after: s.after + offset })));
    notes.push(...g.notes);
  }
  return { kind: 'multi_output', steps, notes };
}

interface StepGroup {
  steps: PipelineStep[];
  notes: TaskNote[];
}

function mapOutput(spec: Spec, out: OutputSpec): StepGroup {
  const { input } = spec;
  const numeric = input.numeric_features;
  const one = (name: string, key: TypicalTaskKey, labels?: LabelSet, extra: Partial<PipelineStep> = {}) => ({
    steps: [step(name, key, labels, numeric, extra)],
    notes: [] as TaskNote[],
  });
  switch (out.kind) {
    case 'one_of_k': {
      const labels = labelSet(out.labels, out.num_labels);
      if (input.texts === 2) return one('pair classification', 'text_pair_classification', labels);
      if (numeric.length > 0) {
        const g = one('classification with numeric features', 'mixed_feature_classification', labels);
        g.notes.push({
          text: `X has numeric features (${numeric.join(', ')}): mixed-feature classification; several kinds of features usually beat text alone.`,
        });
        return g;
      }
      return one('classification', 'text_classification', labels);
    }
    case 'independent_labels': {
      const g = one(
        'multi-label classification',
        'multi_label_classification',
        labelSet(out.labels, out.num_labels),
      );
      if (numeric.length > 0) {
        g.notes.push({
          text: `Numeric features (${numeric.join(', ')}) are fed alongside the text; several kinds of features usually beat text alone.`,
        });
      }
      return g;
    }
    case 'pair_score':
      return one('text matching', 'text_matching', labelSet(out.labels ?? ['0', '1']));
    case 'token_tags':
      return one('sequence labelling', 'sequence_labeling', labelSet(out.labels, out.num_labels));
    case 'passage_span':
      return one('reading comprehension', 'reading_comprehension');
    case 'free_text':
      return one('text generation', 'text_generation');
    case 'likelihood':
      return one('language model', 'language_model');
    case 'entity_relation':
      return entityRelation(out.entity_types, out.relation_types);
    case 'ranking':
      return ranking(out.query, out.labels);
    case 'error_correction':
      return errorCorrection();
    case 'keywords':
      return keywords(out.labels);
    case 'clusters':
      return {
        steps: [
          step('similarity of text pairs', 'text_matching', labelSet(['0', '1']), [], {
            postprocess: 'cluster texts by the model’s pairwise similarity',
          }),
        ],
        notes: [
          {
            text: 'Clustering is done through semantic similarity (text matching), which usually beats LDA-style unsupervised clustering.',
          },
        ],
      };
  }
}

function entityRelation(
  entityTypes: string[] | Record<string, number>,
  relationTypes: string[] | Record<string, number>,
): StepGroup {
  const relations = labelSet(relationTypes);
  const names = relations.names ?? [];
  // Most entity pairs in a sentence are unrelated; the classifier needs a class for that.
  const withNone = names.some((n) => /^(no_relation|none|other)$/i.test(n))
    ? relations
    : { ...relations, names: [...names, 'no_relation'], count: relations.count + 1 };
  return {
    steps: [
      step('entity recognition (实体识别)', 'sequence_labeling', labelSet(entityTypes), []),
      step('relation classification (关系抽取)', 'text_classification', withNone, [], {
        after: 0,
        postprocess:
          'for each pair of recognised entities, classify the sentence with the two entities marked',
      }),
    ],
    notes: [
      {
        text:
          'Entity-relation extraction = entity recognition (sequence labelling) + relation classification ' +
          '(text classification), built as a pipeline rather than one multi-task model.',
      },
    ],
  };
}

function ranking(query: boolean, grades: string[] | Record<string, number> | undefined): StepGroup {
  const labels = labelSet(grades ?? ['not_relevant', 'relevant']);
  const s = query
    ? step('query–candidate matching', 'text_matching', labels, [], {
        postprocess: 'score each (query, candidate) pair and sort candidates by score',
      })
    : step('candidate grading', 'text_classification', labels, [], {
        postprocess: 'score each candidate and sort by the probability of the best grade',
      });
  return {
    steps: [s],
    notes: [
      {
        text: `Ranking is reduced to ${query ? 'text matching' : 'text classification'} plus a sort by the model's score.`,
      },
    ],
  };
}

function errorCorrection(): StepGroup {
  return {
    steps: [
      step('error detection', 'language_model', undefined, [], {
        postprocess: 'flag tokens the language model finds unlikely',
      }),
      step('error correction', 'text_generation', undefined, [], {
        after: 0,
        postprocess: 'rewrite flagged sentences (erroneous → correct text)',
      }),
    ],
    notes: [
      {
        text:
          'Error correction is split into a language model (detection) and a correction step; the guide names ' +
          'statistical MT for the latter, done here as neural text generation because deep learning is preferred.',
      },
    ],
  };
}

function keywords(vocabulary: string[] | Record<string, number> | undefined): StepGroup {
  const note: TaskNote = {
    text: 'Keyword extraction is made supervised (TF-IDF is unsupervised and hard to control).',
  };
  if (vocabulary) {
    return {
      steps: [step('keyword classification', 'multi_label_classification', labelSet(vocabulary), [])],
      notes: [{ ...note, text: `${note.text} With a fixed keyword list, each keyword is a label.` }],
    };
  }
  return {
    steps: [step('keyword tagging', 'sequence_labeling', labelSet(['KEY']), [])],
    notes: [
      { ...note, text: `${note.text} Without a fixed list, keywords are tagged as spans of the text.` },
    ],
  };
}

function step(
  name: string,
  key: TypicalTaskKey,
  labels: LabelSet | undefined,
  numericFeatures: string[],
  extra: Partial<PipelineStep> = {},
): PipelineStep {
  const typical = TYPICAL_TASKS[key];
  return { name, typical, task: typical.task, labels, numericFeatures, ...extra };
}

function labelSet(labels: string[] | Record<string, number> | undefined, numLabels?: number): LabelSet {
  if (labels === undefined) return { count: numLabels ?? 0 };
  const names = labelList(labels);
  const counts = labelCountsOf(labels);
  return counts ? { names, count: names.length, counts } : { names, count: names.length };
}
