/**
 * The work folder of a data-distillation run, laid out as in the guide (§6.3: distill/<task>/):
 *
 *   teacher/                    the teacher's training run (best/ is the teacher), unless a model dir is given
 *   student/augmented           augmented gold texts (alembic augment output)
 *   student/unsup_train_aug     what the teacher labels: augmented + unlabelled texts, de-duplicated
 *   student/train/part.0        the gold data
 *   student/train/part.1        the teacher-labelled data (+ part.1.progress while labelling)
 *   student/train/<sources>.tsv part.0 + the part.1 lines a student reads (some sources; the surest labels)
 *   student/label_map.json      the teacher's label map, shared by every student
 *   student/<name>/gold_only/   a student trained on part.0 only (the baseline)
 *   student/<name>/distilled/   the same student trained on part.0 + part.1
 *   onnx/<model>/               fp32 ONNX exports of the teacher and students, timed by the report
 *   steps/                      one record per finished or started step (see ../step-store.ts)
 *   steps/rank-0.alive          rank 0's heartbeat while a group of workers runs (followers watch it)
 *   report.json, report.txt     teacher vs students: quality and batch-1 QPS
 */
import path from 'node:path';

export type StudentVariant = 'gold_only' | 'distilled';

export class DistillLayout {
  constructor(readonly root: string) {}

  get teacherRun(): string {
    return path.join(this.root, 'teacher');
  }
  get studentDir(): string {
    return path.join(this.root, 'student');
  }
  get augmented(): string {
    return path.join(this.studentDir, 'augmented');
  }
  get pool(): string {
    return path.join(this.studentDir, 'unsup_train_aug');
  }
  get part0(): string {
    return path.join(this.studentDir, 'train', 'part.0');
  }
  get part1(): string {
    return path.join(this.studentDir, 'train', 'part.1');
  }
  /**
   * part.0 + part.1 (or the part of it from some pool sources, or its lines labelled with at least
   * `minConfidence`) as one training file, since the trainer reads one file; soft keeps the probabilities.
   */
  combined(soft: boolean, sources?: readonly string[], minConfidence?: number): string {
    const from = sources === undefined ? 'all' : [...sources].sort().join('+');
    const sure = minConfidence === undefined ? '' : `.min-${minConfidence}`;
    return path.join(this.studentDir, 'train', `${from}${sure}${soft ? '.soft' : ''}.tsv`);
  }
  get labelMap(): string {
    return path.join(this.studentDir, 'label_map.json');
  }
  studentRun(name: string, variant: StudentVariant): string {
    return path.join(this.studentDir, name, variant);
  }
  /** The ONNX export of one reported model: "teacher", "<student>-gold_only" or "<student>-distilled". */
  onnxExport(model: string): string {
    return path.join(this.root, 'onnx', model);
  }
  get steps(): string {
    return path.join(this.root, 'steps');
  }
  /** Rank 0's heartbeat while a group of workers runs the pipeline (../../util/heartbeat.ts). */
  get leaderHeartbeat(): string {
    return path.join(this.steps, 'rank-0.alive');
  }
  get reportJson(): string {
    return path.join(this.root, 'report.json');
  }
  get reportText(): string {
    return path.join(this.root, 'report.txt');
  }
}
