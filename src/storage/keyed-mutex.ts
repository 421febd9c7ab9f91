/**
 * Serialises async work per key inside this process (the LevelDB lock keeps other processes out).
 * Used so that a conditional write checks and publishes without another writer in between.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Hold several keys at once; keys are taken in sorted order so two callers cannot deadlock. */
  runAll<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> => (i === sorted.length ? fn() : this.run(sorted[i]!, () => step(i + 1)));
    return step(0);
  }
}

/**
 * A readers-writer lock per key: many shared holders (S3 writes to a branch) or one exclusive
 * holder (a commit, merge or reset of that branch), first come first served.
 */
export class KeyedRwLock {
  private readonly states = new Map<string, { shared: number; exclusive: boolean; queue: { exclusive: boolean; wake: () => void }[] }>();

  shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.hold(key, false, fn);
  }

  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.hold(key, true, fn);
  }

  private async hold<T>(key: string, exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    let s = this.states.get(key);
    if (!s) this.states.set(key, (s = { shared: 0, exclusive: false, queue: [] }));
    const state = s;
    const free = exclusive ? !state.exclusive && state.shared === 0 && state.queue.length === 0 : !state.exclusive && state.queue.length === 0;
    if (free) this.take(state, exclusive);
    else await new Promise<void>((wake) => state.queue.push({ exclusive, wake }));
    try {
      return await fn();
    } finally {
      if (exclusive) state.exclusive = false;
      else state.shared--;
      this.next(key, state);
    }
  }

  private take(state: { shared: number; exclusive: boolean }, exclusive: boolean): void {
    if (exclusive) state.exclusive = true;
    else state.shared++;
  }

  private next(key: string, state: { shared: number; exclusive: boolean; queue: { exclusive: boolean; wake: () => void }[] }): void {
    while (state.queue.length > 0 && !state.exclusive) {
      const head = state.queue[0]!;
      if (head.exclusive && state.shared > 0) break;
      state.queue.shift();
      this.take(state, head.exclusive);
      head.wake();
      if (head.exclusive) break;
    }
    if (!state.exclusive && state.shared === 0 && state.queue.length === 0) this.states.delete(key);
  }
}
