/**
 * Admission before the body is read. Under overload the expensive part of a refused request is not the
 * refusal but receiving, decoding and checking a body of up to a megabyte first: with many clients sending
 * large requests, the event loop (which also runs the model) spent its time parsing bodies the full queue
 * then turned away, and the model starved. So a prediction request is weighed by its headers alone — its
 * declared Content-Length — and may start being read only when
 *   - the model's queue can take it: inputs waiting + inputs of admitted requests still being read +
 *     this request's estimated inputs ≤ the queue limit. Inputs are estimated from bytes with the bytes per
 *     input this model's recent requests had (learned, so 1-input and 256-input requests both weigh right);
 *   - and the bytes of admitted, unanswered requests stay within the in-flight byte budget (bounds memory).
 * A request that does not fit waits, unread, in arrival order for up to `maxWaitMs` (an unread request is
 * not read from its socket either: TCP holds the client back at no cost to us), and is refused (503)
 * when there is still no room. Refusing at once instead would have a client that retries at once send
 * its megabyte again and again, which costs the same event loop as parsing it.
 * The parsed body is still checked against the real queue (the estimate may be low); this only makes
 * sure that almost all parsing work is for requests that will be answered.
 */

/** Bytes per input assumed before a model has seen a request: a few sentences of text. */
const INITIAL_BYTES_PER_INPUT = 256;
/** Weight of the newest request in the running bytes-per-input estimate. */
const LEARNING_RATE = 0.2;

export interface AdmissionLimits {
  /** Most inputs waiting per model (the micro-batcher's queue limit). */
  maxQueue: number;
  /** Most inputs per request. */
  maxInputs: number;
  /** Most declared body bytes of admitted requests not yet answered, over all models. */
  maxInFlightBytes: number;
  /** Largest request body; a request without Content-Length is weighed as this. */
  bodyLimitBytes: number;
}

/** One model's load as admission sees it. */
class ModelLoad {
  /** Estimated inputs of requests admitted whose body is not yet queued. */
  reserved = 0;
  bytesPerInput = INITIAL_BYTES_PER_INPUT;
  /** Requests waiting for room, oldest first. */
  readonly line: Waiter[] = [];

  constructor(readonly waiting: () => number) {}

  estimate(bytes: number, maxInputs: number): number {
    return Math.min(maxInputs, Math.max(1, Math.round(bytes / this.bytesPerInput)));
  }
}

interface Waiter {
  bytes: number;
  declared: number | undefined;
  decide: (verdict: AdmissionTicket | string) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** An admitted request: tell it when its inputs are queued, and when it is answered. */
export interface AdmissionTicket {
  /** The body is parsed and `inputs` are about to be queued: their reservation ends, the estimate learns. */
  queued(inputs: number): void;
  /** The request is over (answered, refused or aborted); safe to call more than once. */
  release(): void;
}

export class Admission {
  private bytes = 0;
  private readonly loads = new Map<string, ModelLoad>();

  constructor(
    private readonly limits: AdmissionLimits,
    /** Longest wait for room before a request is refused, in ms (0: refuse at once). */
    private readonly maxWaitMs: number,
  ) {}

  /** Declares a model whose queue holds `waiting()` inputs. */
  addModel(name: string, waiting: () => number): void {
    this.loads.set(name, new ModelLoad(waiting));
  }

  /** Declared body bytes of admitted requests not yet answered. */
  get inFlightBytes(): number {
    return this.bytes;
  }

  /**
   * Asks to read a request to `model` whose Content-Length is `declaredBytes` (undefined when chunked):
   * `decide` is called once, with a ticket as soon as there is room, or with the reason it is refused.
   * Returns a function that withdraws the request (its client went away) while it waits.
   */
  request(
    model: string,
    declaredBytes: number | undefined,
    decide: (verdict: AdmissionTicket | string) => void,
  ): () => void {
    const load = this.loads.get(model)!;
    const bytes = declaredBytes ?? this.limits.bodyLimitBytes;
    if (load.line.length === 0 && this.fits(load, bytes)) {
      decide(this.enter(load, bytes, declaredBytes));
      return () => {};
    }
    if (this.maxWaitMs <= 0) {
      decide(this.reason(load));
      return () => {};
    }
    const waiter: Waiter = {
      bytes,
      declared: declaredBytes,
      decide,
      timer: setTimeout(() => {
        this.leave(load, waiter);
        decide(this.reason(load));
      }, this.maxWaitMs),
    };
    load.line.push(waiter);
    return () => {
      clearTimeout(waiter.timer);
      this.leave(load, waiter);
    };
  }

  /** Room may have been made (a batch started, a request ended): admit whoever waits and now fits. */
  wake(): void {
    for (const load of this.loads.values()) {
      while (load.line.length > 0 && this.fits(load, load.line[0].bytes)) {
        const w = load.line.shift()!;
        clearTimeout(w.timer);
        w.decide(this.enter(load, w.bytes, w.declared));
      }
    }
  }

  private fits(load: ModelLoad, bytes: number): boolean {
    const estimate = load.estimate(bytes, this.limits.maxInputs);
    if (load.waiting() + load.reserved + estimate > this.limits.maxQueue) return false;
    // The budget always lets one request through, whatever its size, so a lone large request is served.
    return this.bytes === 0 || this.bytes + bytes <= this.limits.maxInFlightBytes;
  }

  private reason(load: ModelLoad): string {
    return (
      `the server is busy (${load.waiting()} inputs waiting, about ${load.reserved} more arriving, queue ` +
      `limit ${this.limits.maxQueue}; ${this.bytes} bytes of requests in flight, limit ` +
      `${this.limits.maxInFlightBytes}); retry later`
    );
  }

  private leave(load: ModelLoad, waiter: Waiter): void {
    const i = load.line.indexOf(waiter);
    if (i >= 0) load.line.splice(i, 1);
  }

  private enter(load: ModelLoad, bytes: number, declared: number | undefined): AdmissionTicket {
    let reserved = load.estimate(bytes, this.limits.maxInputs);
    let held = bytes;
    this.bytes += bytes;
    load.reserved += reserved;
    return {
      queued: (inputs) => {
        load.reserved -= reserved;
        reserved = 0;
        if (declared !== undefined && inputs > 0)
          load.bytesPerInput += LEARNING_RATE * (declared / inputs - load.bytesPerInput);
        // No wake here: the inputs join the queue next, and room appears when a batch takes them.
      },
      release: () => {
        if (held === 0 && reserved === 0) return;
        load.reserved -= reserved;
        reserved = 0;
        this.bytes -= held;
        held = 0;
        this.wake();
      },
    };
  }
}

/** The Content-Length header as a number, or undefined when absent or not a plain decimal. */
export function declaredLength(header: string | undefined): number | undefined {
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
}
