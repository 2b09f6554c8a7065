/**
 * Dynamic micro-batching: items submitted by concurrent requests wait briefly in one queue and run
 * together, because a model answers a batch of 32 in little more time than a batch of 1. A batch starts
 * when it is full (`maxBatch` items) or when its oldest item has waited `maxWaitMs`; while a batch runs,
 * new items gather for the next one, so under load batches grow by themselves without any waiting.
 * The queue is bounded: past `maxQueue` waiting items `submit` refuses at once (the server answers 503)
 * instead of letting latency and memory grow without limit. Items whose caller gave up (its client hung
 * up: `signal` aborted) leave the queue before they run: under overload clients time out and retry, and
 * computing answers nobody reads would spend the model on nothing.
 */

/** The queue is full; the caller should tell its client to come back later. */
export class QueueFullError extends Error {
  constructor(
    readonly waiting: number,
    readonly limit: number,
  ) {
    super(`the prediction queue is full (${waiting} waiting, limit ${limit}); retry later`);
    this.name = 'QueueFullError';
  }
}

/** The caller withdrew its items (signal aborted) before they ran. */
export class SubmitAbortedError extends Error {
  constructor() {
    super('the request was withdrawn before its inputs ran');
    this.name = 'SubmitAbortedError';
  }
}

/** The batcher is closing and accepts no new work. */
export class BatcherClosedError extends Error {
  constructor() {
    super('the server is shutting down');
    this.name = 'BatcherClosedError';
  }
}

export interface MicroBatcherOptions<I, O> {
  /** Runs one batch; must return one output per input, in order. */
  run: (inputs: I[]) => Promise<O[]>;
  /** Most items in one batch. */
  maxBatch: number;
  /** Longest time the oldest waiting item waits for company before its batch starts anyway. */
  maxWaitMs: number;
  /** Most items waiting (not yet running); a submit that would pass it is refused. */
  maxQueue: number;
  /** Batches running at the same time (1 keeps one core free for the HTTP side). */
  maxInFlight?: number;
  /** Called after each batch with its size and duration (metrics). */
  onBatch?: (size: number, seconds: number) => void;
}

interface Waiting<I, O> {
  input: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
  /** The submit this item came with (to withdraw them together). */
  signal?: AbortSignal;
}

export class MicroBatcher<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private inFlight = 0;
  private timer: { cancel: () => void } | undefined;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private readonly maxInFlight: number;

  constructor(private readonly opts: MicroBatcherOptions<I, O>) {
    for (const k of ['maxBatch', 'maxQueue'] as const)
      if (!(Number.isInteger(opts[k]) && opts[k] > 0))
        throw new RangeError(`${k} must be a positive integer`);
    if (!(opts.maxWaitMs >= 0)) throw new RangeError('maxWaitMs must be ≥ 0');
    this.maxInFlight = opts.maxInFlight ?? 1;
  }

  /** Items waiting to run. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get running(): number {
    return this.inFlight;
  }

  /**
   * Queues the inputs of one request (all or none) and resolves with their outputs in order. Throws
   * QueueFullError when they do not fit, BatcherClosedError after close().
   */
  submit(inputs: readonly I[], signal?: AbortSignal): Promise<O[]> {
    if (this.closed) return Promise.reject(new BatcherClosedError());
    if (signal?.aborted) return Promise.reject(new SubmitAbortedError());
    if (this.queue.length + inputs.length > this.opts.maxQueue)
      return Promise.reject(new QueueFullError(this.queue.length, this.opts.maxQueue));
    // One text per request is the common case: one promise, not one per input plus Promise.all.
    const outputs =
      inputs.length === 1
        ? new Promise<O[]>((resolve, reject) =>
            this.queue.push({ input: inputs[0], resolve: (o) => resolve([o]), reject, signal }),
          )
        : Promise.all(
            inputs.map(
              (input) =>
                new Promise<O>((resolve, reject) => this.queue.push({ input, resolve, reject, signal })),
            ),
          );
    if (signal) {
      const withdraw = () => this.withdraw(signal);
      signal.addEventListener('abort', withdraw, { once: true });
      void outputs.then(
        () => signal.removeEventListener('abort', withdraw),
        () => signal.removeEventListener('abort', withdraw),
      );
    }
    this.schedule();
    return outputs;
  }

  /** Drops the waiting items submitted with `signal`; items already running finish unseen. */
  private withdraw(signal: AbortSignal): void {
    let kept = 0;
    for (const w of this.queue) {
      if (w.signal === signal) w.reject(new SubmitAbortedError());
      else this.queue[kept++] = w;
    }
    this.queue.length = kept;
    if (this.queue.length === 0 && this.inFlight === 0) this.clearTimer();
  }

  /** Stops accepting work and resolves once every accepted item has been answered. */
  close(): Promise<void> {
    this.closed = true;
    // Accepted items must not wait for a timer that only exists to gather more company.
    this.schedule(true);
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Starts every batch that may start; `force` starts a partial batch without further waiting. */
  private schedule(force = false): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const full = this.queue.length >= this.opts.maxBatch;
      if (!full && !force) {
        // A free slot lets concurrent requests join the first waiting item for up to maxWaitMs (0: those
        // that arrive in the same event-loop turn); a batch finishing starts whatever waited meanwhile.
        this.armTimer();
        return;
      }
      this.clearTimer();
      this.dispatch(this.queue.splice(0, this.opts.maxBatch));
      force = this.closed;
    }
  }

  private armTimer(): void {
    if (this.timer) return;
    const fire = () => {
      this.timer = undefined;
      this.schedule(true);
    };
    if (this.opts.maxWaitMs > 0) {
      const t = setTimeout(fire, this.opts.maxWaitMs);
      this.timer = { cancel: () => clearTimeout(t) };
    } else {
      const t = setImmediate(fire);
      this.timer = { cancel: () => clearImmediate(t) };
    }
  }

  private clearTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private dispatch(batch: Waiting<I, O>[]): void {
    this.inFlight++;
    const started = performance.now();
    let result: Promise<O[]>;
    try {
      result = this.opts.run(batch.map((w) => w.input));
    } catch (e) {
      result = Promise.reject(e);
    }
    result
      .then((outputs) => {
        if (outputs.length !== batch.length)
          throw new Error(`the model returned ${outputs.length} outputs for ${batch.length} inputs`);
        batch.forEach((w, i) => w.resolve(outputs[i]));
      })
      .catch((e: unknown) => batch.forEach((w) => w.reject(e)))
      .finally(() => {
        this.inFlight--;
        this.opts.onBatch?.(batch.length, (performance.now() - started) / 1000);
        // Whatever gathered while this batch ran has waited long enough: run it now.
        this.schedule(true);
        if (this.queue.length === 0 && this.inFlight === 0) {
          const waiters = this.drainWaiters;
          this.drainWaiters = [];
          waiters.forEach((w) => w());
        }
      });
  }
}
