/**
 * An in-memory cache of mutable records (repositories, branches) read on every request. This
 * process holds the store's lock, so every write goes through code that invalidates the key
 * before and after it writes; a read that raced a write (it started before the write landed)
 * does not store its possibly stale value.
 */
export class RecordCache<V> {
  private readonly values = new Map<string, V | null>();
  private readonly generations = new Map<string, number>();

  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.values.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const generation = this.generations.get(key) ?? 0;
    const value = await load();
    if ((this.generations.get(key) ?? 0) === generation) this.values.set(key, value ?? null);
    return value;
  }

  invalidate(key: string): void {
    this.values.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
  }

  clear(): void {
    for (const key of this.values.keys()) this.invalidate(key);
  }
}
