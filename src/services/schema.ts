/**
 * The scenario's `services` entry: a process faultline starts, owns and stops.
 *
 * ```yaml
 * services:
 *   payment:
 *     command: node
 *     args: [examples/payment.js, --port, "{port}"]   # {port} and {replica} are substituted per replica
 *     env: { LOG_LEVEL: warn }                       # added to faultline's env; each replica also gets PORT=<its port>
 *     cwd: .                                         # relative to the scenario's directory
 *     ports: [4001, 4002]                            # one replica per port (none: a single replica, no PORT)
 *     ready: { port: true, timeout: 10s }            # true = each replica's own port; or url: http://127.0.0.1:{port}/health
 *     restart: on-failure                            # or { policy: on-failure, delay: 1s, max: 5 }: a supervisor, like Docker's
 *     stopGrace: 5s                                  # SIGTERM, then SIGKILL after this
 *     logDir: .faultline/logs                        # stdout and stderr of replica i go to <logDir>/<name>-<i>.log
 *     host: own                                      # each replica in its own network namespace (root, ip, nft); or
 *                                                    # { names: { payment.shop.test: 127.0.0.1 } } for its resolver
 * ```
 *
 * Readiness defaults to "each replica's port accepts a TCP connection" when
 * `ports` is given, and to "still running after 100 ms" otherwise. Ready checks
 * only ever connect to loopback. `restart` is what a supervisor (systemd,
 * Kubernetes) would do when the process exits on its own or is killed by a
 * fault; a `kill` fault's own `restart` delay is independent of it.
 */
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { zDuration, zPositiveDuration, isLoopbackHost } from '../config/units.ts';

const zPort = z.int().min(1).max(65535);

const restartPolicy = z.enum(['no', 'on-failure', 'always']);

const restartSchema = z
  .union([
    restartPolicy,
    z.strictObject({
      policy: restartPolicy.default('on-failure'),
      /** Wait before restarting, like a supervisor's back-off. */
      delay: zDuration.default(0),
      /** Give up after this many restarts (per replica). */
      max: z.int().min(0).optional(),
    }),
  ])
  .transform((r) => (typeof r === 'string' ? { policy: r, delay: 0, max: undefined } : r));

const readySchema = z
  .strictObject({
    port: z.union([zPort, z.literal(true)]).optional(),
    url: z.string().optional(),
    timeout: zPositiveDuration.default(10_000),
  })
  .superRefine((r, ctx) => {
    if (r.url === undefined) return;
    let u: URL;
    try {
      u = new URL(r.url.replaceAll('{port}', '1').replaceAll('{replica}', '0'));
    } catch {
      ctx.addIssue({ code: 'custom', path: ['url'], message: `expected a URL like "http://127.0.0.1:{port}/health", got ${JSON.stringify(r.url)}` });
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', path: ['url'], message: `expected an http(s) URL, got ${JSON.stringify(r.url)}` });
    } else if (!isLoopbackHost(u.hostname)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: `readiness URLs must be on loopback (127.0.0.1, localhost, ::1), got ${u.hostname}` });
    }
  });

/** A loopback or link-local address: what a name may resolve to on faultline's hosts. */
const zHostAddress = z.string().refine((a) => (isIPv4(a) && (a.startsWith('127.') || a.startsWith('169.254.'))) || a === '::1', {
  message: 'expected a loopback (127.x.x.x, ::1) or link-local (169.254.x.x) address',
});

/** `host: own` (or the object form): each replica runs in its own network namespace; see src/hosts/network.ts. */
const hostSchema = z
  .union([
    z.literal('own'),
    z.strictObject({
      /** What the host's resolver answers (name → address); other names are NXDOMAIN. */
      names: z.record(z.string().min(1), zHostAddress).default({}),
    }),
  ])
  .transform((h) => (h === 'own' ? { names: {} } : h));

export const serviceSpecSchema = z
  .strictObject({
    command: z.string().min(1),
    args: z.array(z.union([z.string(), z.number()]).transform(String)).default([]),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
    cwd: z.string().optional(),
    ports: z.array(zPort).min(1).optional(),
    ready: readySchema.optional(),
    restart: restartSchema.default({ policy: 'no', delay: 0, max: undefined }),
    stopGrace: zDuration.default(5_000),
    logDir: z.string().optional(),
    host: hostSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.ports && new Set(s.ports).size !== s.ports.length) {
      ctx.addIssue({ code: 'custom', path: ['ports'], message: 'ports must be distinct (one replica per port)' });
    }
    if (s.ready?.port === true && !s.ports) {
      ctx.addIssue({ code: 'custom', path: ['ready', 'port'], message: '`port: true` means each replica\'s own port, so `ports` must be given' });
    }
  });

/** A service spec as written in a scenario. */
export type ServiceSpecInput = z.input<typeof serviceSpecSchema>;
/** A validated service spec: durations in ms, defaults applied. */
export type ServiceSpec = z.output<typeof serviceSpecSchema>;
