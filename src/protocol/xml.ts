/**
 * The single fast-xml-parser configuration: S3 response documents out (compact, with the XML
 * declaration) and request bodies in (size-capped, validated, namespace-agnostic). Text is escaped
 * by one function (escapeXml), whether a document goes through the builder or is written directly
 * (a listing page: element() and XmlText, encoded piece by piece by xmlBytes).
 */
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type { XMLBuilder, XMLParser } from "fast-xml-parser";
import { S3Error } from "./errors.js";

export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

/** An XML document: the root element name and its content (element order = property order). */
export interface XmlDoc {
  root: string;
  /** Elements as objects for the builder, or already written (XmlText). */
  content: unknown;
  /** Adds xmlns to the root (lakeFS does this only for a few documents). */
  namespace?: boolean;
}

/**
 * fast-xml-parser, loaded on first use: a server's first answer (HeadBucket, GET /_health) needs no
 * XML. Its CommonJS build, one file, is `require`d: the same release's ES module build is some 30
 * files, which take Node's ES module loader several times as long (~6 ms against ~35 ms here).
 */
let library: typeof import("fast-xml-parser") | undefined;
const fastXml = () => (library ??= createRequire(import.meta.url)("fast-xml-parser") as typeof import("fast-xml-parser"));

let builder: XMLBuilder | undefined;
let parser: XMLParser | undefined;

function getBuilder(): XMLBuilder {
  return (builder ??= new (fastXml().XMLBuilder)({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    textNodeName: "#text",
    format: false,
    suppressEmptyNode: false,
    suppressBooleanAttributes: false,
    // escapeXml instead of the builder's own entities (the same five), so that every document
    // escapes alike
    processEntities: false,
    tagValueProcessor: (_name: string, value: unknown) => (typeof value === "string" ? escapeXml(value) : value),
    attributeValueProcessor: (_name: string, value: unknown) => (typeof value === "string" ? escapeXml(value) : value),
  }));
}

function getParser(): XMLParser {
  return (parser ??= new (fastXml().XMLParser)({
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: false,
    processEntities: true,
    // Also decodes numeric character references (&#34;), which Go's encoder writes for quotes.
    htmlEntities: true,
  }));
}

const DECLARATION = `<?xml version="1.0" encoding="UTF-8"?>\n`;

export function toXml(doc: XmlDoc): string {
  if (doc.content instanceof XmlText) return textPieces(doc, doc.content).join("");
  const content = doc.namespace ? withNamespace(doc.content) : doc.content;
  return DECLARATION + getBuilder().build({ [doc.root]: content });
}

/**
 * A document as UTF-8, what a response sends. A document written directly is encoded piece by
 * piece into one buffer: a listing page of a thousand entries joined into one string first made a
 * string of ~200 KB, which V8 keeps in its space for large objects, on pages the system hands it
 * anew each time (~55 first touches of a page, ~13 µs each here): 1.2 ms a page against 0.45.
 */
export function xmlBytes(doc: XmlDoc): Buffer {
  if (!(doc.content instanceof XmlText)) return Buffer.from(toXml(doc), "utf8");
  const pieces = textPieces(doc, doc.content);
  let size = 0;
  for (const piece of pieces) size += Buffer.byteLength(piece, "utf8");
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const piece of pieces) at += out.write(piece, at, "utf8");
  return out;
}

function textPieces(doc: XmlDoc, text: XmlText): string[] {
  return [`${DECLARATION}<${doc.root}${doc.namespace ? ` xmlns="${S3_NAMESPACE}"` : ""}>`, ...text.pieces, `</${doc.root}>`];
}

/** A document's content written directly (with element()), in pieces, for the pages that are long lists. */
export class XmlText {
  constructor(readonly pieces: readonly string[]) {}
}

/** `<name>value</name>` with the value escaped, as the builder writes a text element. */
export function element(name: string, value: string | number | boolean): string {
  return `<${name}>${typeof value === "string" ? escapeXml(value) : value}</${name}>`;
}

const SPECIAL = /[&<>'"]/;
const SPECIALS = /[&<>'"]/g;
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;" };

/** Text or an attribute value as XML: the five special characters as entities. */
export function escapeXml(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ENTITIES[c]!) : s;
}

function withNamespace(content: unknown): unknown {
  if (content === null || typeof content !== "object") return { "@_xmlns": S3_NAMESPACE, "#text": content ?? "" };
  return { "@_xmlns": S3_NAMESPACE, ...(content as object) };
}

/**
 * S3 request documents carry no attributes but namespace declarations; the validator and parser
 * build objects for every attribute, so a body full of them (megabytes of `a1="" a2=""…`) would cost
 * many times its size in memory. Such a body is refused before parsing.
 */
const MAX_ATTRIBUTES = 64;

/** Attributes (`name=` inside a tag, outside quotes), counted in one pass; stops past the limit. */
function attributeCount(text: string): number {
  let count = 0;
  let inTag = false;
  let quote = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (!inTag) {
      if (c === 60 /* < */) inTag = true;
    } else if (c === 62 /* > */) inTag = false;
    else if (c === 34 || c === 39) quote = c;
    else if (c === 61 /* = */ && ++count > MAX_ATTRIBUTES) return count;
  }
  return count;
}

/** Read a request body of at most `limit` bytes and parse it; malformed or oversized → MalformedXML. */
export async function readXml(body: Readable, limit: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new S3Error("MalformedXML", `The XML you provided was larger than the maximum of ${limit} bytes allowed.`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "" || attributeCount(text) > MAX_ATTRIBUTES || fastXml().XMLValidator.validate(text) !== true) throw new S3Error("MalformedXML");
  try {
    return getParser().parse(text) as Record<string, unknown>;
  } catch {
    // the validator accepts a few documents the parser refuses (very deep nesting, odd PIs)
    throw new S3Error("MalformedXML");
  }
}

/** A key as `encoding-type=url` renders it (S3: percent-encoded, `/` kept). */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, "/");
}

/** An element that may occur once or many times, as an array. */
export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined || value === null || (value as unknown) === "") return [];
  return Array.isArray(value) ? value : [value];
}

/** Text content of a parsed element (which may be a string, a number, or an object with #text). */
export function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object") {
    const t = (value as Record<string, unknown>)["#text"];
    return t === undefined ? "" : String(t);
  }
  return String(value);
}
