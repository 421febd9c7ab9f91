/**
 * Key order shared by LevelDB and in-memory structures. LevelDB compares UTF-8 bytes (= code point
 * order, which is also S3's listing order); JS compares UTF-16 code units. `compareKeys` gives the
 * byte order without encoding, so committed trees, staging and listings all agree.
 */

/**
 * Code point order of two strings (equal to the order of their UTF-8 bytes). JavaScript's `<`
 * gives it when either string has no UTF-16 unit from U+D800 up (see ordersNatively), which is
 * checked natively: a listing step compares several keys, and a loop over their characters cost a
 * delimiter page at a million objects a third of its time until the JIT had optimized it.
 */
export function compareKeys(a: string, b: string): number {
  if (ordersNatively(a) || ordersNatively(b)) return a === b ? 0 : a < b ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return fix(ca) - fix(cb);
  }
  return a.length - b.length;
}

/**
 * Whether `<` orders `s` against any string in code point order: UTF-16 order parts from it only
 * where both strings differ at units from U+D800 up (a surrogate against U+E000–U+FFFF), so a
 * string without such units compares natively with any other. A search tests its probe once.
 */
export function ordersNatively(s: string): boolean {
  return !HIGH_UNITS.test(s);
}

const HIGH_UNITS = /[\ud800-\uffff]/;

/** Whether `a` sorts before `b`; `native` is ordersNatively(b), which a search tests once for its probe `b`. */
export function keyBefore(a: string, b: string, native: boolean): boolean {
  return native ? a < b : compareKeys(a, b) < 0;
}

/** Surrogates (code points ≥ U+10000) sort after U+E000–U+FFFF in code point order. */
function fix(c: number): number {
  return c >= 0xd800 ? (c < 0xe000 ? c + 0x2000 : c - 0x800) : c;
}

/** The range of keys starting with `prefix`. */
export function rangeFor(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefix + "\u{10FFFF}" };
}

/** The smallest string greater than every string that starts with `prefix`. */
export function skipPast(prefix: string): string {
  // the last character one further, in place, unless it is a surrogate or U+FFFF (a delimiter's
  // common prefix, which a listing seeks past, ends in an ASCII character mostly)
  const unit = prefix.charCodeAt(prefix.length - 1);
  if (unit < 0xd800 || (unit >= 0xe000 && unit < 0xffff)) return prefix.slice(0, -1) + String.fromCharCode(unit + 1);
  const chars = [...prefix];
  const last = chars.pop()!.codePointAt(0)!;
  return chars.join("") + String.fromCodePoint(Math.min(last + 1, 0x10ffff));
}

/** The first of sorted `keys` not before `path`. */
export function lowerBound(keys: readonly string[], path: string): number {
  const native = ordersNatively(path);
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyBefore(keys[mid]!, path, native)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
