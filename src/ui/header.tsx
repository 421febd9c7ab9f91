/**
 * Header: where the server listens, mode, uptime, which access key (never the secret), data dir,
 * and the running totals; PAUSED up front so narrow terminals still show it; a warnings line (count
 * and the latest) once the server has warned. Ticks its own clock
 * once a second for the uptime.
 */
import { Box, Text } from "ink";
import type { RequestSnapshot } from "../log/events.js";
import { formatBytes } from "../log/sinks.js";
import { formatUptime } from "./format.js";
import { useNow } from "./use-now.js";

export interface ServerInfo {
  endpoint: string;
  accessKeyId: string;
  /** Shown masked in the help pane until asked for (x). */
  secretAccessKey: string;
  /** A copy-paste AWS CLI command against this server, with the given secret (shown or masked). */
  tryCommand: (secret: string) => string;
  dataDir: string;
  mode: string;
  startedAt: number;
}

export interface HeaderProps {
  info: ServerInfo;
  totals: RequestSnapshot["totals"];
  warnings: RequestSnapshot["warnings"];
  inFlight: number;
  paused: boolean;
}

/** Rows the header takes: two, and one more once there are warnings. */
export const headerRows = (warnings: RequestSnapshot["warnings"]): number => (warnings.count > 0 ? 3 : 2);

export function Header({ info, totals, warnings, inFlight, paused }: HeaderProps) {
  const now = useNow(1000);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold color="blue">lakes3</Text>
        {paused ? <Text> <Text inverse bold color="yellow"> PAUSED </Text></Text> : null} <Text bold>{info.endpoint}</Text>
        <Text dimColor>  mode </Text>{info.mode}
        <Text dimColor>  up </Text>{formatUptime(Math.max(0, now - info.startedAt))}
        <Text dimColor>  key </Text>{info.accessKeyId}
        <Text dimColor>  data </Text>{info.dataDir}
      </Text>
      <Text wrap="truncate-end">
        <Text dimColor>requests </Text>{totals.requests}
        <Text dimColor>  errors </Text><Text color={totals.errors > 0 ? "red" : undefined}>{totals.errors}</Text>
        <Text dimColor>  in </Text>{formatBytes(totals.bytesIn)}
        <Text dimColor>  out </Text>{formatBytes(totals.bytesOut)}
        <Text dimColor>  in flight </Text>{inFlight}
      </Text>
      {warnings.count > 0 ? (
        <Text wrap="truncate-end" color="yellow">
          ⚠ {warnings.count} warning{warnings.count === 1 ? "" : "s"} (w shows them) · {warnings.recent.at(-1)?.message}
        </Text>
      ) : null}
    </Box>
  );
}
