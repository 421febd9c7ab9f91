/**
 * Deletes blobs that no record references any more — but never under a reader. A GET pins the
 * blobs of the record it read; a blob replaced or deleted meanwhile is removed only once every pin
 * is released (and after a short grace period, which covers a reader that has fetched the record
 * but not pinned it yet). A crash before deletion leaves orphans, which the startup sweep removes.
 */
import type { BlobRef, BlobStore } from "./blob-store.js";

const GRACE_MS = 1000;

export class Reclaimer {
  private readonly pins = new Map<string, number>();
  private readonly pending = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly blobs: BlobStore, private readonly graceMs = GRACE_MS) {}

  /** Keep these blobs on disk until the returned function is called (idempotent). */
  pin(parts: readonly BlobRef[]): () => void {
    for (const p of parts) this.pins.set(p.blobId, (this.pins.get(p.blobId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const p of parts) {
        const n = (this.pins.get(p.blobId) ?? 1) - 1;
        if (n <= 0) this.pins.delete(p.blobId);
        else this.pins.set(p.blobId, n);
      }
    };
  }

  /** Schedule these blobs for deletion. */
  reclaim(parts: Iterable<BlobRef>): void {
    for (const p of parts) this.pending.add(p.blobId);
    if (this.pending.size > 0 && !this.timer) {
      this.timer = setTimeout(() => void this.run(), this.graceMs);
      this.timer.unref();
    }
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    const ready = [...this.pending].filter((id) => !this.pins.has(id));
    for (const id of ready) this.pending.delete(id);
    await this.blobs.delete(ready).catch(() => undefined);
    if (this.pending.size > 0) this.reclaim([]);
  }

  /**
   * Delete what can be deleted now (on close); pinned leftovers are swept at next start. Returns
   * whether every pending blob was deleted.
   */
  async flush(): Promise<boolean> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const ready = [...this.pending].filter((id) => !this.pins.has(id));
    const all = ready.length === this.pending.size;
    this.pending.clear();
    return this.blobs.delete(ready).then(() => all, () => false);
  }

  /** Forget everything pending (after a reset that removed all blobs). */
  forget(): void {
    this.pending.clear();
  }
}
