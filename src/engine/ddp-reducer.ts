/**
 * PyTorch DistributedDataParallel's own gradient reducer, c10d::Reducer (bound in
 * native/src/distributed.cc), over a process group: the gradient all-reduce runs while backward still
 * computes. Its autograd hooks copy each gradient into its bucket as soon as backward produced it and start
 * a bucket's all-reduce once the bucket is full; backward returns when all have finished and .grad holds
 * the result. As in DDP: parameters fill buckets in reverse order (their gradients come roughly in that
 * order), a small first bucket (1 MB) for the parameters defined first, whose gradients come last, so
 * little is left to reduce when backward ends, and 25 MB buckets otherwise; each gradient is the sum over
 * the ranks divided by the world size; a parameter no rank used in a step keeps no gradient, and one used
 * on some ranks only counts as zero on the others.
 *
 * Every rank must run backward once per step with the same parameters in its graph (a rank without
 * examples runs a stand-in with weight 0): the hooks of a parameter in no rank's graph never fire, and the
 * peers would wait on a bucket this rank never starts.
 */
import { native } from './native.js';
import type { ProcessGroup } from './distributed.js';
import type { Tensor } from './tensor.js';

/** DDP's bucket sizes: the first (for the parameters defined first) and the others. */
export const DDP_FIRST_BUCKET_BYTES = 1024 * 1024;
export const DDP_BUCKET_BYTES = 25 * 1024 * 1024;

/** Where a step's gradient all-reduce spent its time, in milliseconds (means over the steps timed). */
export interface ReducerTimings {
  /** Backward's computation: from prepare to the last gradient. */
  computeMs: number;
  /** The all-reduce: from the first bucket started to the last finished. */
  commMs: number;
  /** The part of commMs while backward still computed (the rest is waited for after it). */
  overlapMs: number;
}

export class DdpReducer {
  private constructor(
    private readonly group: ProcessGroup,
    private readonly id: number,
    /** How many buckets the parameters were assigned to. */
    readonly buckets: number,
  ) {}

  /**
   * A reducer of `params`' gradients (each requiring a gradient; no duplicates). Fails on every rank
   * unless all ranks give parameters of the same shapes.
   */
  static create(
    group: ProcessGroup,
    params: Tensor[],
    firstBucketBytes = DDP_FIRST_BUCKET_BYTES,
    bucketBytes = DDP_BUCKET_BYTES,
  ): DdpReducer {
    const [id, buckets] = group.guard(
      'setting up the gradient reducer',
      () =>
        native.reducerCreate(
          group.group,
          params.map((p) => p.handle),
          firstBucketBytes,
          bucketBytes,
        ) as [number, number],
    );
    return new DdpReducer(group, id, buckets);
  }

  /**
   * Runs backward from `loss` with the all-reduce overlapped: afterwards every parameter's gradient is the
   * sum over the ranks of their gradients, divided by the world size.
   */
  backward(loss: Tensor): void {
    this.group.guard('the gradient all-reduce', () => {
      native.reducerPrepareForward(this.id);
      native.reducerPrepareBackward(this.id, [loss.handle]);
      loss.backward();
    });
  }

  /** The steps' timings so far (the current step's not yet). */
  timings(): ReducerTimings {
    return native.reducerStats(this.id) as ReducerTimings;
  }

  /** Removes the autograd hooks and frees the buckets. */
  close(): void {
    native.reducerClose(this.id);
  }
}
