/**
 * Detail pane for the selected request: everything the event knows, headers masked again
 * defensively, and for SignatureDoesNotMatch first a hint, then the server's string to sign and
 * canonical request. It scrolls (App owns the offset).
 */
import { Box, Text } from "ink";
import type { RequestEvent, ServerWarning } from "../log/events.js";
import { divergenceNote, formatBytes, queryParams, requestLine } from "../log/sinks.js";
import { chunk, formatDuration, formatTime, statusColor } from "./format.js";
import { maskedHeaderEntries, maskSignatures } from "./mask.js";

export interface DetailLine {
  label?: string;
  value: string;
  color?: string;
  bold?: boolean;
}

const LABEL = 12;

const SIGNATURE_HINT =
  "the client signed with another secret key than this server's (--secret-access-key), or signed other bytes: compare its string to sign and canonical request with the server's below (a different host, path, query or header line is the cause)";

/** A labelled value, wrapped to the pane's width (the label on its first line). */
export function fieldLines(label: string, value: string, width: number, color?: string): DetailLine[] {
  return chunk(value, Math.max(10, width - LABEL)).map((part, i) => ({ label: i === 0 ? label : "", value: part, color }));
}

export function detailLines(e: RequestEvent, width: number): DetailLine[] {
  const lines: DetailLine[] = [];
  const field = (label: string, value: string, color?: string): void => void lines.push(...fieldLines(label, value, width, color));
  const block = (title: string, text: string): void => {
    lines.push({ value: title, bold: true });
    for (const line of maskSignatures(text).split("\n")) lines.push({ label: "", value: line });
  };

  chunk(requestLine(e), width).forEach((part) => lines.push({ value: part, bold: true }));
  const status = e.done ? `${e.status ?? "---"}${e.errorCode ? ` ${e.errorCode}` : ""}` : "… in flight";
  field("status", `${status} · auth ${e.auth ?? "-"}`, e.done ? statusColor(e.status) : "gray");
  if (e.errorMessage) field("message", e.errorMessage);
  if (e.divergence) field("portability", `${divergenceNote(e.divergence)} (${e.divergence.id}; --strict answers as lakeFS)`, "yellow");
  if (e.fault) field("fault", `${e.fault.action} · injected by rule ${e.fault.rule}`, "yellow");
  // A signature failure is explained by what the server signed: that comes first.
  if (e.signature) {
    field("hint", SIGNATURE_HINT, "yellow");
    if (e.signature.stringToSign) block("string to sign (server)", e.signature.stringToSign);
    if (e.signature.canonicalRequest) block("canonical request (server)", e.signature.canonicalRequest);
  }
  field("operation", `${e.operation ?? "-"} · source ${e.source} · id ${e.id}`);
  const params = queryParams(e);
  if (params.length > 0) field("query", params.map(([name, value]) => (value === "" ? name : `${name}=${value}`)).join(" · "));
  const duration = e.done ? formatDuration(e.durationMs ?? 0) : `${formatDuration(Date.now() - e.startedAt)} so far`;
  const when = `${new Date(e.startedAt).toISOString()} (${formatTime(e.startedAt, true)} local)`;
  field("timing", `${when} · ${duration} · in ${formatBytes(e.bytesIn)} · out ${formatBytes(e.bytesOut)}`);
  if (e.userAgent) field("user agent", e.userAgent);
  const headers = maskedHeaderEntries(e.headers ?? {});
  if (headers.length > 0) {
    lines.push({ value: "request headers", bold: true });
    for (const [name, value] of headers) field("", `${name}: ${value}`);
  }
  return lines;
}

/** The warnings pane's lines: time, then the message (wrapped), newest last. */
export function warningLines(warnings: readonly ServerWarning[], width: number): DetailLine[] {
  if (warnings.length === 0) return [{ value: "no warnings", color: "gray" }];
  return warnings.flatMap((w) => fieldLines(formatTime(w.at, false), w.message, width, "yellow"));
}

export interface DetailPaneProps {
  /** The selected request's lines, from detailLines (App computes them once a render, for the height too). */
  lines: readonly DetailLine[];
  height: number;
  columns: number;
  /** The first line shown (App clamps it with maxDetailOffset). */
  offset: number;
  /** What the pane shows ("details", "warnings"). */
  title?: string;
}

/** Lines the pane shows below its title bar. */
const room = (height: number): number => Math.max(1, height - 1);

/** The last useful scroll offset: the final line at the bottom of the pane. */
export function maxDetailOffset(lineCount: number, height: number): number {
  return Math.max(0, lineCount - room(height));
}

export function DetailPane({ lines: all, height, columns, offset, title: name = "details" }: DetailPaneProps) {
  const shown = all.slice(offset, offset + room(height));
  const scrollable = all.length > shown.length;
  const where = scrollable ? ` ${offset + 1}–${offset + shown.length} of ${all.length} · ↑↓ PgUp PgDn Home End scroll ·` : "";
  const title = `─ ${name}${where} ${name === "details" ? "Enter/" : ""}Esc close `;
  return (
    <Box flexDirection="column" height={Math.min(height, shown.length + 1)} overflow="hidden">
      <Text dimColor wrap="truncate-end">{title + "─".repeat(Math.max(0, columns - title.length))}</Text>
      {shown.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line.label !== undefined ? <Text dimColor>{line.label.padEnd(LABEL)}</Text> : null}
          <Text color={line.color} bold={line.bold}>{line.value}</Text>
        </Text>
      ))}
    </Box>
  );
}
