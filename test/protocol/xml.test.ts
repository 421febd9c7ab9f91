// Documents as a response sends them (src/protocol/xml.ts): a document written directly, in pieces
// (a listing page), is encoded piece by piece into the same bytes as its text.
import { describe, expect, it } from "vitest";
import { element, toXml, xmlBytes, XmlText, type XmlDoc } from "../../src/protocol/xml.js";

describe("xmlBytes", () => {
  it("encodes a document in pieces as the UTF-8 of its text, whatever the characters", () => {
    const keys = ["plain.txt", "naïve/é.csv", "日本語/ファイル", "emoji 😀.bin", "a&b<c>\"d'", ""];
    const doc: XmlDoc = { root: "ListBucketResult", namespace: true, content: new XmlText(["<Name>r</Name>", ...keys.map((k) => element("Key", k))]) };
    const text = toXml(doc);
    expect(text).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>r</Name>` +
        `<Key>plain.txt</Key><Key>naïve/é.csv</Key><Key>日本語/ファイル</Key><Key>emoji 😀.bin</Key><Key>a&amp;b&lt;c&gt;&quot;d&apos;</Key><Key></Key></ListBucketResult>`,
    );
    expect(xmlBytes(doc).equals(Buffer.from(text, "utf8"))).toBe(true);
  });

  it("encodes a document the builder writes as the UTF-8 of its text", () => {
    const doc: XmlDoc = { root: "Error", content: { Code: "NoSuchKey", Key: "ключ" } };
    expect(xmlBytes(doc).equals(Buffer.from(toXml(doc), "utf8"))).toBe(true);
    expect(xmlBytes(doc).toString("utf8")).toContain("<Key>ключ</Key>");
  });
});
