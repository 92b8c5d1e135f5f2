// Cuts a long run of synchronous work (/proc reads, decoding a large answer) into slices:
// between slices the event loop serves /-/healthy and scrapes, and work past its deadline
// stops instead of going on.

/** Synchronous work allowed between two returns to the event loop. */
export const SLICE_MS = 20;

export class WorkSlicer {
  private sliceStart = performance.now();

  constructor(
    private readonly signal: AbortSignal,
    private readonly budgetMs = SLICE_MS,
  ) {}

  /** Call before each unit of work: throws the abort reason once aborted; yields when the slice is spent. */
  async next(): Promise<void> {
    this.signal.throwIfAborted();
    if (performance.now() - this.sliceStart < this.budgetMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.signal.throwIfAborted();
    this.sliceStart = performance.now();
  }
}
