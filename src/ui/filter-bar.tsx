/**
 * The bottom line: the filter input while typing (`/`), else the active filter, row counts and the
 * key help (`?`).
 */
import { Text } from "ink";

const HELP = "↑/↓ k/j select · End/G follow · Enter details · / filter · s stats · w warnings · Esc close/clear · p pause · c clear · x secret · q quit";

export interface FilterBarProps {
  editing: boolean;
  filter: string;
  /** What is wrong with the filter (parseFilter), shown instead of the counts. */
  errors: readonly string[];
  shown: number;
  total: number;
  help: boolean;
  following: boolean;
}

export function FilterBar({ editing, filter, errors, shown, total, help, following }: FilterBarProps) {
  const problem = errors.length > 0 ? <Text color="red">   invalid filter: {errors.join("; ")}</Text> : null;
  if (editing) {
    return (
      <Text wrap="truncate-end">
        <Text color="cyan">/</Text>
        {filter}
        <Text inverse> </Text>
        {problem ?? <Text dimColor>   text · status:4xx · op:PutObject · repo:name — Enter apply · Esc clear</Text>}
      </Text>
    );
  }
  if (help) return <Text wrap="truncate-end" color="cyan">{HELP}</Text>;
  return (
    <Text wrap="truncate-end">
      {filter ? <Text color="cyan">filter: {filter}</Text> : null}
      {problem ?? (filter ? "   " : null)}
      {problem ? "   " : null}
      <Text dimColor>
        {filter ? `${shown} of ${total}` : `${total}`} shown{following ? " · following" : " · selection (End/G follows)"} · ? help
      </Text>
    </Text>
  );
}
