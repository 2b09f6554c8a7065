/**
 * Labelling progress on stderr: a live bar (lines/s, ETA) on a terminal; on a pipe, a line every 5%.
 */
import cliProgress from 'cli-progress';

export class LabelProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly started = performance.now();
  private lastLine: number;

  constructor(
    private readonly total: number,
    private readonly start: number,
    private readonly quiet: boolean,
  ) {
    this.lastLine = start;
    this.bar =
      !quiet && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              format: 'label |{bar}| {value}/{total} lines · {speed} lines/s · ETA {eta_formatted}',
              stream: process.stderr,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    this.bar?.start(total, start, { speed: '-' });
  }

  update(done: number): void {
    const seconds = (performance.now() - this.started) / 1000;
    const speed = (done - this.start) / Math.max(seconds, 1e-9);
    if (this.bar) {
      this.bar.update(done, { speed: speed.toFixed(1) });
      return;
    }
    if (this.quiet) return;
    const every = Math.max(1, Math.floor(this.total / 20));
    if (done - this.lastLine >= every || done === this.total) {
      this.lastLine = done;
      const eta = (this.total - done) / Math.max(speed, 1e-9);
      process.stderr.write(
        `label ${done}/${this.total} lines · ${speed.toFixed(1)} lines/s · ETA ${eta.toFixed(0)} s\n`,
      );
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
