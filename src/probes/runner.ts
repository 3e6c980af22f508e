/**
 * Polls every probe on its own period for the length of a run, one poll at a
 * time per probe (a slow probe is never stacked), and hands each result to the
 * run as it arrives: stop conditions on probes act at once, not a window later.
 * A window is judged by the polls that finished inside it (the worst of them).
 */
import type { Probe, ProbeResult, ProbeSpec } from './types.ts';

export interface ProbeRunnerOptions {
  now: () => number;
  onResult: (probe: string, r: ProbeResult) => void;
}

/** A probe's polls that finished in a window: ok when all were, the slowest latency. */
export interface ProbeWindow {
  ok: boolean;
  polls: number;
  failed: number;
  latencyMs: number;
  value?: ProbeResult['value'];
  message?: string;
}

export class ProbeRunner {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly results = new Map<string, ProbeResult[]>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  private readonly probes: { spec: ProbeSpec; probe: Probe }[];
  private readonly o: ProbeRunnerOptions;

  constructor(probes: { spec: ProbeSpec; probe: Probe }[], o: ProbeRunnerOptions) {
    this.probes = probes;
    this.o = o;
  }

  start(): void {
    for (const { spec, probe } of this.probes) {
      this.results.set(spec.name, []);
      let busy = false;
      const tick = () => {
        if (busy || this.stopped) return;
        busy = true;
        const p = probe.poll().then((r) => {
          busy = false;
          if (this.stopped) return;
          const full = { ...r, t: this.o.now() };
          this.results.get(spec.name)!.push(full);
          this.o.onResult(spec.name, full);
        });
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      };
      tick();
      this.timers.push(setInterval(tick, spec.everyMs));
    }
  }

  /** Polls that finished in [start, end), per probe; earlier results are dropped (windows come in order). */
  window(start: number, end: number): Record<string, ProbeWindow> | undefined {
    if (!this.probes.length) return undefined;
    const out: Record<string, ProbeWindow> = {};
    for (const [name, list] of this.results) {
      const inside = list.filter((r) => r.t >= start && r.t < end);
      this.results.set(name, list.filter((r) => r.t >= end));
      if (!inside.length) continue;
      const worst = inside.find((r) => !r.ok) ?? inside.reduce((a, b) => (b.latencyMs > a.latencyMs ? b : a));
      out[name] = {
        ok: inside.every((r) => r.ok),
        polls: inside.length,
        failed: inside.filter((r) => !r.ok).length,
        latencyMs: Math.max(...inside.map((r) => r.latencyMs)),
        ...(worst.value !== undefined ? { value: worst.value } : {}),
        ...(worst.message ? { message: worst.message } : {}),
      };
    }
    return out;
  }

  /** Stops polling; waits (bounded by each poll's own timeout) for polls in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([...this.inFlight]);
  }
}
