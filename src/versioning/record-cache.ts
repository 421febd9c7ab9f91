/**
 * An in-memory cache of mutable records (repositories, branches) read on every request. This
 * process holds the store's lock, so every write goes through code that invalidates the key
 * before and after it writes; a read that raced a write (it started before the write landed)
 * does not store its possibly stale value. One generation counts every invalidation: a load
 * stores its value only if no invalidation happened while it ran (of any key: conservative, and
 * nothing to keep per key). Only found records are kept, so misses (a tag name or a commit-id
 * prefix tried as a branch) never grow the cache.
 */
export class RecordCache<V> {
  private readonly values = new Map<string, V>();
  private generation = 0;

  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const cached = this.values.get(key);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && value !== null && this.generation === generation) this.values.set(key, value);
    return value;
  }

  invalidate(key: string): void {
    this.values.delete(key);
    this.generation++;
  }

  clear(): void {
    this.values.clear();
    this.generation++;
  }
}
