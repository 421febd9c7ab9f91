import { describe, expect, it } from "vitest";
import type { BlobStore } from "../../src/storage/blob-store.js";
import { Reclaimer } from "../../src/storage/reclaimer.js";

/** A blob store whose delete records ids, or fails. */
function blobs(fail = false): BlobStore & { deleted: string[] } {
  const deleted: string[] = [];
  return {
    deleted,
    delete: async (ids: Iterable<string>) => {
      if (fail) throw Object.assign(new Error("EIO"), { code: "EIO" });
      deleted.push(...ids);
    },
  } as unknown as BlobStore & { deleted: string[] };
}

describe("the reclaimer's flush on close says whether everything it was handed is gone", () => {
  it("true when every pending blob was deleted", async () => {
    const store = blobs();
    const r = new Reclaimer(store, 60_000);
    r.reclaim([{ blobId: "a", size: 1 }]);
    expect(await r.flush()).toBe(true);
    expect(store.deleted).toEqual(["a"]);
  });
  it("false when a blob is still pinned by a reader, or the delete failed (the next start must sweep)", async () => {
    const pinned = new Reclaimer(blobs(), 60_000);
    pinned.pin([{ blobId: "p", size: 1 }]);
    pinned.reclaim([{ blobId: "p", size: 1 }, { blobId: "q", size: 1 }]);
    expect(await pinned.flush()).toBe(false);
    const failing = new Reclaimer(blobs(true), 60_000);
    failing.reclaim([{ blobId: "a", size: 1 }]);
    expect(await failing.flush()).toBe(false);
  });
});
