/**
 * A command probe: ok when the command exits 0 within the timeout — the way
 * to ask any alarm system (`aws cloudwatch describe-alarms …`, `curl -f …`,
 * a script of your own). Run through the shell in its own process group, like
 * exec faults; its last output line is kept as the reason when it fails.
 */
import { z } from 'zod';
import { runShell } from '../faults/shell.ts';
import type { ProbeKind } from './types.ts';

const params = z.strictObject({ command: z.string().min(1), env: z.record(z.string(), z.string()).optional() });
type Params = z.output<typeof params>;

export const commandProbe: ProbeKind<Params> = {
  name: 'command',
  params,
  describe: 'runs a command: ok when it exits 0 within the timeout (any alarm system, through its CLI)',
  create(name, p, o) {
    return {
      name,
      async poll() {
        const t0 = performance.now();
        try {
          const r = await runShell(p.command, { env: { ...process.env, ...p.env }, cwd: o.cwd, timeoutMs: o.timeoutMs });
          const latencyMs = performance.now() - t0;
          const last = r.output.trim().split('\n').pop()?.trim().slice(0, 200);
          if (r.timedOut) return { ok: false, latencyMs, message: `no answer within ${o.timeoutMs} ms` };
          if (r.code !== 0) return { ok: false, latencyMs, value: r.code, message: `exit ${r.code ?? r.signal}${last ? `: ${last}` : ''}` };
          return { ok: true, latencyMs, value: 0 };
        } catch (e) {
          return { ok: false, latencyMs: performance.now() - t0, message: e instanceof Error ? e.message : String(e) };
        }
      },
    };
  },
};
