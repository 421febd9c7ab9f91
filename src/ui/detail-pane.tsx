/**
 * Detail pane for the selected request: everything the event knows, headers masked again
 * defensively, and for SignatureDoesNotMatch the server's canonical request and string to sign.
 */
import { Box, Text } from "ink";
import type { RequestEvent } from "../log/events.js";
import { divergenceNote, formatBytes, targetOf } from "../log/sinks.js";
import { chunk, formatDuration, formatTime, statusColor } from "./format.js";
import { maskedHeaderEntries, maskSignatures } from "./mask.js";

interface DetailLine {
  label?: string;
  value: string;
  color?: string;
  bold?: boolean;
}

const LABEL = 12;

export function detailLines(e: RequestEvent, width: number): DetailLine[] {
  const valueWidth = Math.max(10, width - LABEL);
  const lines: DetailLine[] = [];
  const field = (label: string, value: string, color?: string): void => {
    chunk(value, valueWidth).forEach((part, i) => lines.push({ label: i === 0 ? label : "", value: part, color }));
  };
  const block = (title: string, text: string): void => {
    lines.push({ value: title, bold: true });
    for (const line of maskSignatures(text).split("\n")) lines.push({ label: "", value: line });
  };

  const target = targetOf(e);
  chunk(`${e.method} /${target === "/" ? "" : target}`, width).forEach((part) => lines.push({ value: part, bold: true }));
  field("operation", `${e.operation ?? "-"} · source ${e.source} · id ${e.id}`);
  const status = e.done ? `${e.status ?? "---"}${e.errorCode ? ` ${e.errorCode}` : ""}` : "… in flight";
  field("status", `${status} · auth ${e.auth ?? "-"}`, e.done ? statusColor(e.status) : "gray");
  if (e.errorMessage) field("message", e.errorMessage);
  if (e.divergence) field("portability", `${divergenceNote(e.divergence)} (${e.divergence.id}; --strict answers as lakeFS)`, "yellow");
  if (e.fault) field("fault", `${e.fault.action} · injected by rule ${e.fault.rule}`, "yellow");
  const duration = e.done ? formatDuration(e.durationMs ?? 0) : `${formatDuration(Date.now() - e.startedAt)} so far`;
  const when = `${new Date(e.startedAt).toISOString()} (${formatTime(e.startedAt, true)} local)`;
  field("timing", `${when} · ${duration} · in ${formatBytes(e.bytesIn)} · out ${formatBytes(e.bytesOut)}`);
  if (e.userAgent) field("user agent", e.userAgent);
  if (e.signature?.canonicalRequest) block("canonical request (server)", e.signature.canonicalRequest);
  if (e.signature?.stringToSign) block("string to sign (server)", e.signature.stringToSign);
  const headers = maskedHeaderEntries(e.headers ?? {});
  if (headers.length > 0) {
    lines.push({ value: "request headers", bold: true });
    for (const [name, value] of headers) field("", `${name}: ${value}`);
  }
  return lines;
}

export interface DetailPaneProps {
  /** The selected request's lines, from detailLines (App computes them once a render, for the height too). */
  lines: readonly DetailLine[];
  height: number;
  columns: number;
}

export function DetailPane({ lines: all, height, columns }: DetailPaneProps) {
  const room = Math.max(1, height - 1);
  const shown = all.length > room ? [...all.slice(0, room - 1), { value: `… ${all.length - room + 1} more lines (enlarge the terminal)`, color: "gray" }] : all;
  return (
    <Box flexDirection="column" height={Math.min(height, shown.length + 1)} overflow="hidden">
      <Text dimColor wrap="truncate-end">{`─ details ${"─".repeat(Math.max(0, columns - 30))} Enter/Esc close`}</Text>
      {shown.map((line, i) => (
        <Text key={i} wrap="truncate-end">
          {line.label !== undefined ? <Text dimColor>{line.label.padEnd(LABEL)}</Text> : null}
          <Text color={line.color} bold={line.bold}>{line.value}</Text>
        </Text>
      ))}
    </Box>
  );
}
