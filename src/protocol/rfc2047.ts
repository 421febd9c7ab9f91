/**
 * RFC 2047 encoded words in user metadata, exactly as lakeFS handles them: it decodes
 * `x-amz-meta-*` values with Go's `mime.WordDecoder.DecodeHeader` and writes them back with
 * `mime.QEncoding.Encode("utf-8", v)` (lakeFS pkg/gateway/operations/operation_utils.go; Go's
 * src/mime/encodedword.go). Both work on bytes; so do these.
 */

const MAX_ENCODED_WORD = 75;
/** What fits in one word between `=?UTF-8?q?` and `?=`. */
const MAX_CONTENT = MAX_ENCODED_WORD - "=?UTF-8?q?".length - "?=".length;
const UPPER_HEX = "0123456789ABCDEF";

/**
 * Go's DecodeHeader: every well-formed encoded word is decoded; white space between two decoded
 * words is dropped, any other text is kept; a word that does not decode stays as written. Words in
 * utf-8, iso-8859-1 and us-ascii are decoded; any other charset fails the whole header
 * (undefined), which lakeFS answers with 400 InvalidArgument "Invalid header value.".
 */
export function decodeRfc2047(header: string): string | undefined {
  if (!header.includes("=?")) return header;
  const out: Buffer[] = [];
  const text = (s: string) => out.push(Buffer.from(s, "utf8"));
  let rest = header;
  let betweenWords = false;
  for (;;) {
    const start = rest.indexOf("=?");
    if (start === -1) break;
    let cur = start + 2;
    const q = rest.indexOf("?", cur);
    if (q === -1) break;
    const charset = rest.slice(cur, q);
    cur = q + 1;
    if (rest.length < cur + "Q??=".length) break;
    const encoding = rest[cur]!;
    cur++;
    if (rest[cur] !== "?") break;
    cur++;
    const j = rest.indexOf("?=", cur);
    if (j === -1) break;
    const content = decodeWord(encoding, rest.slice(cur, j));
    if (content === undefined) {
      betweenWords = false;
      text(rest.slice(0, start + 2));
      rest = rest.slice(start + 2);
      continue;
    }
    const before = rest.slice(0, start);
    if (start > 0 && (!betweenWords || /[^ \t\n\r]/.test(before))) text(before);
    const converted = convert(charset, content);
    if (converted === undefined) return undefined;
    out.push(converted);
    rest = rest.slice(j + 2);
    betweenWords = true;
  }
  text(rest);
  return Buffer.concat(out).toString("utf8");
}

function decodeWord(encoding: string, data: string): Buffer | undefined {
  if (encoding === "B" || encoding === "b") {
    const b64 = data.replace(/[\r\n]/g, "");
    return b64.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(b64) ? Buffer.from(b64, "base64") : undefined;
  }
  if (encoding !== "Q" && encoding !== "q") return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x5f) bytes.push(0x20);
    else if (c === 0x3d) {
      if (i + 2 >= data.length) return undefined;
      const hex = data.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if ((c >= 0x20 && c <= 0x7e) || c === 0x0a || c === 0x0d || c === 0x09) bytes.push(c);
    else return undefined;
  }
  return Buffer.from(bytes);
}

function convert(charset: string, content: Buffer): Buffer | undefined {
  switch (charset.toLowerCase()) {
    case "utf-8":
      return content;
    case "iso-8859-1":
      return Buffer.from(content.toString("latin1"), "utf8");
    case "us-ascii":
      return Buffer.from([...content].map((b) => (b < 0x80 ? String.fromCharCode(b) : "\ufffd")).join(""), "utf8");
    default:
      return undefined;
  }
}

/**
 * Go's `mime.QEncoding.Encode("utf-8", s)`: unchanged unless it holds a control character (other
 * than tab) or non-ASCII; else `=?utf-8?q?…?=` words of at most 75 characters, split with a space
 * and never inside a character, a space written `_`.
 */
export function encodeRfc2047(value: string): string {
  if (!/[^\x20-\x7e\t]/.test(value)) return value;
  const open = "=?utf-8?q?";
  const bytes = Buffer.from(value, "utf8");
  let out = open;
  let current = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const plain = b >= 0x20 && b <= 0x7e && b !== 0x3d && b !== 0x3f && b !== 0x5f;
    const runeLen = plain || b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    const encLen = plain ? 1 : 3 * runeLen;
    if (current + encLen > MAX_CONTENT) {
      out += "?= " + open;
      current = 0;
    }
    for (const c of bytes.subarray(i, i + runeLen)) {
      if (c === 0x20) out += "_";
      else if (c >= 0x21 && c <= 0x7e && c !== 0x3d && c !== 0x3f && c !== 0x5f) out += String.fromCharCode(c);
      else out += "=" + UPPER_HEX[c >> 4]! + UPPER_HEX[c & 0x0f]!;
    }
    current += encLen;
    i += runeLen;
  }
  return out + "?=";
}
