/**
 * Ink hands a run of text typed faster than it reads (a paste, key repeat, "k⏎") to useInput as one
 * string. splitKeys replays such a run as single key presses, mapping ⏎, ⌫, Tab and Ctrl-letters.
 */
import type { Key } from "ink";

export function splitKeys(input: string, key: Key): [string, Key][] {
  if (input.length <= 1 || key.ctrl || key.meta || input.includes("\u001B")) return [[input, key]];
  return [...input].map((ch): [string, Key] => {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\r" || ch === "\n") return ["", { ...key, return: true }];
    if (ch === "\u007F" || ch === "\b") return ["", { ...key, backspace: true }];
    if (ch === "\t") return ["", { ...key, tab: true }];
    if (code < 0x20) return [String.fromCharCode(code + 0x60), { ...key, ctrl: true }];
    return [ch, { ...key, shift: /[A-Z]/.test(ch) }];
  });
}
