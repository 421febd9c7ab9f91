/**
 * The bottom line: the filter input while typing (`/`), else the active filter, row counts and the
 * key help (`?`).
 */
import { Text } from "ink";

const HELP = "↑/↓ k/j select · End/G follow · Enter details · / filter · Esc close/clear · p pause · c clear · q quit";

export interface FilterBarProps {
  editing: boolean;
  filter: string;
  shown: number;
  total: number;
  help: boolean;
  following: boolean;
}

export function FilterBar({ editing, filter, shown, total, help, following }: FilterBarProps) {
  if (editing) {
    return (
      <Text wrap="truncate-end">
        <Text color="cyan">/</Text>
        {filter}
        <Text inverse> </Text>
        <Text dimColor>   text · status:4xx · op:PutObject · repo:name — Enter apply · Esc clear</Text>
      </Text>
    );
  }
  if (help) return <Text wrap="truncate-end" color="cyan">{HELP}</Text>;
  return (
    <Text wrap="truncate-end">
      {filter ? <Text color="cyan">filter: {filter}   </Text> : null}
      <Text dimColor>
        {filter ? `${shown} of ${total}` : `${total}`} shown{following ? " · following" : " · selection (End/G follows)"} · ? help
      </Text>
    </Text>
  );
}
