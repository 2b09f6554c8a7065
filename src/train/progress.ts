/**
 * Training progress on stderr: a live bar (loss, speed, ETA) on a terminal; on a pipe or in CI, one
 * line every few percent so logs stay readable. The loss shown is the mean of the last `window` steps,
 * the same window metrics.jsonl's train lines average over (trainer.train_log_step), so the console
 * and the log agree; epochs are counted from 1, as in metrics.jsonl.
 */
import cliProgress from 'cli-progress';

export class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly started = performance.now();
  private readonly startStep: number;
  private lastLine = 0;
  private readonly recent: number[] = [];

  constructor(
    private readonly total: number,
    start: number,
    private readonly quiet: boolean,
    private readonly window = 10,
  ) {
    this.startStep = start;
    this.bar =
      !quiet && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              format:
                'train |{bar}| {value}/{total} steps · epoch {epoch} · loss {loss} · {speed} steps/s · ETA {eta_formatted}',
              stream: process.stderr,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    this.bar?.start(total, start, { loss: '-', speed: '-', epoch: 1 });
  }

  /** The mean loss over the last `window` steps. */
  get smoothed(): number {
    return this.recent.reduce((a, b) => a + b, 0) / Math.max(1, this.recent.length);
  }

  /** `epoch` counts from 1. */
  tick(step: number, loss: number, epoch: number): void {
    this.recent.push(loss);
    if (this.recent.length > this.window) this.recent.shift();
    const seconds = (performance.now() - this.started) / 1000;
    const speed = (step - this.startStep) / Math.max(seconds, 1e-9);
    if (this.bar) {
      this.bar.update(step, { loss: this.smoothed.toFixed(4), speed: speed.toFixed(2), epoch });
      return;
    }
    if (this.quiet) return;
    const every = Math.max(1, Math.floor(this.total / 20));
    if (step - this.lastLine >= every || step === this.total) {
      this.lastLine = step;
      const eta = (this.total - step) / Math.max(speed, 1e-9);
      process.stderr.write(
        `step ${step}/${this.total} · epoch ${epoch} · loss ${this.smoothed.toFixed(4)} · ${speed.toFixed(2)} steps/s · ETA ${eta.toFixed(0)} s\n`,
      );
    }
  }

  /** A line that must not be overwritten by the bar (evaluation results). */
  note(line: string): void {
    if (this.quiet) return;
    if (this.bar) {
      this.bar.stop();
      process.stderr.write(line + '\n');
      this.bar.start(this.total, this.lastValue(), {});
    } else {
      process.stderr.write(line + '\n');
    }
  }

  private lastValue(): number {
    return (this.bar as unknown as { value: number } | null)?.value ?? 0;
  }

  stop(): void {
    this.bar?.stop();
  }
}
