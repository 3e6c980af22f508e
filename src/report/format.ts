/** Number and table formatting shared by the terminal views. Never rounds a measurement away: it shows it at a readable precision. */
import { Chalk } from 'chalk';

export type Paint = InstanceType<typeof Chalk>;

/** Colour only on a TTY without NO_COLOR (and never when `plain`). */
export function paint(stream: NodeJS.WriteStream | undefined, plain = false): Paint {
  const on = !plain && !!stream?.isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  return new Chalk({ level: on ? 2 : 0 });
}

export function ms(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)}s`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`;
  if (v >= 100) return `${v.toFixed(0)}ms`;
  if (v >= 10) return `${v.toFixed(1)}ms`;
  return `${v.toFixed(2)}ms`;
}

export function rate(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function pct(v: number): string {
  if (v === 0) return '0%';
  if (v < 0.001) return `${(v * 100).toFixed(3)}%`;
  if (v < 0.1) return `${(v * 100).toFixed(2)}%`;
  return `${(v * 100).toFixed(1)}%`;
}

export function int(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** A plain text table; `right` marks numeric columns. */
export function table(head: string[], rows: string[][], right: boolean[] = [], p?: Paint): string {
  const widths = head.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const cell = (s: string, i: number) => {
    const pad = ' '.repeat(Math.max(0, widths[i] - visible(s)));
    return right[i] ? pad + s : s + pad;
  };
  const line = (r: string[]) => r.map(cell).join('  ').trimEnd();
  const h = line(head);
  return [p ? p.bold(h) : h, ...rows.map(line)].join('\n');
}
