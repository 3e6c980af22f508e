/**
 * What the host fault kinds share: finding the hosts of a target service, and
 * an nftables table (in a host's namespace or the root one) that is journalled
 * before it is loaded, read for its counters and deleted at the fault's end.
 */
import type { FaultContext, FaultSpecBase } from '../faults/types.ts';
import type { Host } from './types.ts';
import { nft, nftCounters, run } from './tools.ts';

const UNDO_MS = 10_000;
export const GONE = 'No such file or directory|Cannot find device|does not exist|No such device|Cannot open network namespace';

let tables = 0;

/** The hosts (one per replica) of the fault's target; throws one line when it has none. */
export function targetHosts(spec: FaultSpecBase, ctx: FaultContext, service = spec.target): Host[] {
  const hosts = service === undefined ? [] : (ctx.hosts?.of(service) ?? []);
  if (hosts.length === 0) throw new Error(`${spec.kind} needs a service running as its own host (\`host: own\`); ${JSON.stringify(service)} has no host`);
  return hosts;
}

/** Records an argv undo in the journal (before the change it undoes); returns its id. */
export function recordUndo(ctx: FaultContext, spec: FaultSpecBase, argv: string[], gone = GONE): Promise<string> {
  return ctx.journal.record({ fault: spec.name, kind: spec.kind, undo: { type: 'argv', argv, timeoutMs: UNDO_MS, gone } });
}

/** An nft table of one fault in one namespace (undefined: the root namespace). */
export class FaultTable {
  readonly name: string;
  readonly ns: string | undefined;
  private journalId?: string;
  private loaded = false;

  constructor(ns: string | undefined) {
    this.ns = ns;
    this.name = `faultline-f${process.pid.toString(36)}${(tables++).toString(36)}`;
  }

  private argv(...rest: string[]): string[] {
    return this.ns ? ['ip', 'netns', 'exec', this.ns, 'nft', ...rest] : ['nft', ...rest];
  }

  /** Journals the table's deletion, then loads `table ip <name> { body }`. */
  async load(ctx: FaultContext, spec: FaultSpecBase, body: string): Promise<void> {
    this.journalId = await recordUndo(ctx, spec, this.argv('delete', 'table', 'ip', this.name));
    await nft(this.ns, `table ip ${this.name} {\n${body}\n}\n`);
    this.loaded = true;
  }

  counters(): Promise<Record<string, { packets: number; bytes: number }>> {
    return nftCounters(this.ns, 'ip', this.name);
  }

  /** Deletes the table (idempotent); the journal entry is cleared once it is gone. */
  async remove(ctx: FaultContext): Promise<void> {
    if (this.journalId === undefined) return;
    if (this.loaded) {
      await run(this.argv('delete', 'table', 'ip', this.name)).catch((e: Error) => {
        if (!new RegExp(GONE).test(e.message)) throw e;
      });
      this.loaded = false;
    }
    await ctx.journal.clear(this.journalId);
    this.journalId = undefined;
  }
}

/** "1,234" */
export const count = (n: number) => n.toLocaleString('en-US');
/** 0.1962 → "19.6%" */
export const pct = (f: number) => `${(f * 100).toFixed(1)}%`;
