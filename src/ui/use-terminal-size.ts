/**
 * useTerminalSize: rows and columns of Ink's stdout, updated on resize (defaults 24×80 when the
 * stream does not know, e.g. in tests).
 */
import { useEffect, useState } from "react";
import { useStdout } from "ink";

export interface TerminalSize {
  rows: number;
  columns: number;
}

function read(stdout: NodeJS.WriteStream): TerminalSize {
  return { rows: stdout.rows || 24, columns: stdout.columns || 80 };
}

export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => read(stdout));
  useEffect(() => {
    const onResize = (): void => setSize(read(stdout));
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  return size;
}
