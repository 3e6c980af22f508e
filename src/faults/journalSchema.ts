/**
 * What a journal line may hold, checked like a scenario before `recover`
 * acts on it. The undo union is the one type fault kinds write (types.ts
 * derives JournalEntry from it): a new undo shape is a new branch here.
 */
import { z } from 'zod';
import { constants } from 'node:os';
import { basename, dirname } from 'node:path';

const signals = Object.keys(constants.signals) as [NodeJS.Signals, ...NodeJS.Signals[]];
/** An undo's own time limit: positive and at most an hour. */
const timeoutMs = z.number().positive().max(3_600_000);

export const journalUndoSchema = z.discriminatedUnion('type', [
  /** pid < 0 signals a process group; pidStart (/proc start time) guards against a reused pid. */
  z.strictObject({
    type: z.literal('signal'),
    pid: z.int().refine((p) => Math.abs(p) > 1, { message: 'expected a pid or process group above 1 (0, 1 and -1 reach init or every process)' }),
    signal: z.enum(signals),
    pidStart: z.string().regex(/^\d+$/).optional(),
  }),
  /** A command the user wrote (an exec fault's undo), run through /bin/sh. */
  z.strictObject({ type: z.literal('exec'), command: z.string().min(1), cwd: z.string().optional(), env: z.record(z.string(), z.string()).optional(), timeoutMs }),
  /** A program faultline itself chose (ip, nft, tc, rm …), run without a shell. */
  z.strictObject({
    type: z.literal('argv'),
    argv: z.array(z.string()).min(1),
    timeoutMs,
    /** A regular expression: a failing undo whose output matches found nothing left to undo, which counts as done. */
    gone: z.string().max(500).optional(),
  }),
  /** A request to a loopback API (a Toxiproxy toxic to delete). */
  z.strictObject({ type: z.literal('http'), method: z.string().regex(/^[A-Z]{3,7}$/), url: z.string().min(1) }),
  /**
   * Cgroups a resource fault made: their processes moved back to `returnTo`, then removed. Only
   * directories named as faultline names them (`faultline-<pid>-<n>`), so a changed line cannot
   * have recover empty someone else's cgroup.
   */
  z.strictObject({
    type: z.literal('cgroup'),
    dirs: z
      .array(
        z.strictObject({
          dir: z.string().regex(/^\/.*\/faultline-\d+-\d+$/, { message: 'expected an absolute path ending in faultline-<pid>-<n>' }),
          returnTo: z.string().regex(/^\//, { message: 'expected an absolute path' }),
        }),
      )
      .min(1),
  }),
  /**
   * A file a fault removed, replaced or made unreadable: `backup` (beside it, named
   * `.<name>.faultline-…`) renamed back over it, its mode restored, its SHA-256 checked.
   */
  z
    .strictObject({
      type: z.literal('file'),
      path: z.string().regex(/^\//, { message: 'expected an absolute path' }),
      backup: z.string().optional(),
      mode: z.int().min(0).max(0o7777).optional(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    })
    .refine((u) => u.backup === undefined || (dirname(u.backup) === dirname(u.path) && basename(u.backup).startsWith(`.${basename(u.path)}.faultline-`)), {
      message: 'the backup must sit beside the file, named .<name>.faultline-…',
    }),
  /** Nothing can be undone from outside the run; said as a note. */
  z.strictObject({ type: z.literal('none'), note: z.string() }),
]);

export type JournalUndo = z.output<typeof journalUndoSchema>;

export const journalRecordSchema = z.strictObject({
  op: z.literal('record'),
  id: z.string().min(1).max(200),
  fault: z.string(),
  kind: z.string().min(1),
  undo: journalUndoSchema,
  at: z.number(),
  owner: z.int().min(2).optional(),
  mac: z.string(),
});

export const journalClearSchema = z.strictObject({ op: z.literal('clear'), id: z.string().min(1).max(200), mac: z.string() });
