/**
 * cgroups for resource faults (cpu, memory), v1 and v2.
 *
 * A fault makes one child cgroup per controller beside the target's own
 * (`<its cgroup>/faultline-<pid>-<n>`), moves the target's processes into it,
 * sets the limit, reads usage from it, and on undo moves them back to where
 * they were and removes it. The journal holds `{ type: 'cgroup' }` so that
 * `faultline recover` can do the same after a kill -9.
 *
 * - v1 (this project's CI machine): one hierarchy per controller under
 *   `<root>/<controller>` (`cpu`, `cpuacct`, `memory`; a `cpu,cpuacct`
 *   co-mount is found through its usual symlinks). CPU used is read from
 *   `cpuacct.usage`, limits are `cpu.cfs_quota_us` / `memory.limit_in_bytes`.
 * - v2 (most users' machines): one hierarchy at `<root>` with
 *   `cgroup.controllers`; limits are `cpu.max` / `memory.max`, usage is
 *   `cpu.stat usage_usec`, `memory.peak`, `memory.events`. A v2 child needs
 *   the controller enabled in its parent's `cgroup.subtree_control`, which the
 *   kernel refuses for a parent holding processes (other than the root): the
 *   child then goes under the root instead.
 *
 * The root and the /proc reader are injectable, so the v2 path is tested
 * against a fake cgroupfs directory.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Controller = 'cpu' | 'cpuacct' | 'memory';

export interface CgroupOptions {
  /** Where cgroupfs is mounted (default /sys/fs/cgroup, or FAULTLINE_CGROUP_ROOT). */
  root?: string;
  /** The text of /proc/<pid>/cgroup (default: read it). */
  procCgroup?: (pid: number) => string;
  /** Removes an emptied cgroup directory (default rmdir; a fake cgroupfs needs `rm -r`). */
  removeDir?: (dir: string) => void;
}

/** Where one controller lives: its hierarchy's mount and the version of that hierarchy. */
interface Hierarchy {
  version: 1 | 2;
  mount: string;
}

const defaultRoot = () => process.env.FAULTLINE_CGROUP_ROOT ?? '/sys/fs/cgroup';

function readProcCgroup(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The hierarchy holding a controller, or undefined when it is not available here. */
export function findHierarchy(controller: Controller, root: string = defaultRoot()): Hierarchy | undefined {
  for (const dir of [controller, controller === 'cpuacct' || controller === 'cpu' ? 'cpu,cpuacct' : '']) {
    if (dir && existsSync(join(root, dir, 'cgroup.procs')) && !existsSync(join(root, dir, 'cgroup.controllers'))) return { version: 1, mount: join(root, dir) };
  }
  // v2: cpu accounting (cpu.stat usage_usec) is always there; cpu and memory limits need their controller.
  const v2 = readText(join(root, 'cgroup.controllers'));
  if (v2 !== undefined) {
    const have = v2.trim().split(/\s+/);
    if (controller === 'cpuacct' || have.includes(controller)) return { version: 2, mount: root };
  }
  return undefined;
}

/** Which cgroup versions serve cpu and memory here (for messages and docs). */
export function cgroupSupport(root: string = defaultRoot()): Partial<Record<Controller, 1 | 2>> {
  const out: Partial<Record<Controller, 1 | 2>> = {};
  for (const c of ['cpu', 'cpuacct', 'memory'] as const) {
    const h = findHierarchy(c, root);
    if (h) out[c] = h.version;
  }
  return out;
}

/** The path of a process's cgroup in a hierarchy ("/" for the root), from /proc/<pid>/cgroup. */
export function cgroupPathOf(text: string, controller: Controller, version: 1 | 2): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (version === 2 && m[1] === '0' && m[2] === '') return m[3];
    if (version === 1 && m[2].split(',').includes(controller)) return m[3];
  }
  return undefined;
}

let seq = 0;

/** One controller's directory of a fault's cgroup, and where its processes came from. */
export interface CgroupDir {
  controller: Controller;
  version: 1 | 2;
  dir: string;
  /** The cgroup the processes were in (their `cgroup.procs` gets them back on undo). */
  returnTo: string;
}

/**
 * A fault's cgroup: a directory per controller (one shared directory on v2, and
 * when cpu and cpuacct are co-mounted on v1).
 */
export class FaultCgroup {
  readonly dirs: CgroupDir[] = [];
  private readonly opts: Required<CgroupOptions>;

  private constructor(opts: Required<CgroupOptions>) {
    this.opts = opts;
  }

  /**
   * Plans directories for the controllers (beside `pid`'s own cgroup) without
   * creating anything, so the journal can hold them first. Throws a one-line
   * error when a controller is not available.
   */
  static plan(pid: number, controllers: Controller[], opts: CgroupOptions = {}): FaultCgroup {
    const o: Required<CgroupOptions> = {
      root: opts.root ?? defaultRoot(),
      procCgroup: opts.procCgroup ?? readProcCgroup,
      removeDir: opts.removeDir ?? ((d) => rmdirSync(d)),
    };
    const cg = new FaultCgroup(o);
    const name = `faultline-${process.pid}-${++seq}`;
    const text = o.procCgroup(pid);
    for (const c of controllers) {
      const h = findHierarchy(c, o.root);
      if (!h) throw new Error(`no ${c} cgroup controller here (looked under ${o.root}); use the hog method instead`);
      // v2 accounts CPU in every cgroup (cpu.stat): cpuacct is the cpu directory itself.
      if (h.version === 2 && c === 'cpuacct' && controllers.includes('cpu')) continue;
      const own = cgroupPathOf(text, c, h.version);
      if (own === undefined) throw new Error(`cannot tell pid ${pid}'s ${c} cgroup from /proc/${pid}/cgroup`);
      const returnTo = join(h.mount, own);
      let parent = returnTo;
      // v2: a cgroup holding processes cannot delegate controllers (no internal processes), except the root.
      if (h.version === 2 && own !== '/' && !canDelegate(returnTo, c)) parent = h.mount;
      const dir = join(parent, name);
      if (cg.dirs.some((d) => samePath(d.dir, dir))) continue;
      cg.dirs.push({ controller: c, version: h.version, dir, returnTo });
    }
    return cg;
  }

  /** Creates the directories (v2: enabling the controllers in the parent first). */
  create(): void {
    for (const d of this.dirs) {
      if (d.version === 2 && d.controller !== 'cpuacct') {
        const parent = join(d.dir, '..');
        const enabled = (readText(join(parent, 'cgroup.subtree_control')) ?? '').split(/\s+/);
        if (!enabled.includes(d.controller)) writeFileSync(join(parent, 'cgroup.subtree_control'), `+${d.controller}`);
      }
      mkdirSync(d.dir);
    }
  }

  private find(controller: Controller): CgroupDir {
    const d = this.dirs.find((x) => x.controller === controller) ?? (controller === 'cpuacct' ? this.dirs.find((x) => x.version === 2) : undefined);
    if (!d) throw new Error(`no ${controller} cgroup in this fault`);
    return d;
  }

  version(controller: Controller): 1 | 2 {
    return this.find(controller).version;
  }

  write(controller: Controller, file: string, value: string): void {
    writeFileSync(join(this.find(controller).dir, file), value);
  }

  read(controller: Controller, file: string): string | undefined {
    return readText(join(this.find(controller).dir, file));
  }

  /** Moves processes in (one write per pid, as v1 wants). Returns the pids that were gone by then. */
  add(pids: number[]): number[] {
    const gone: number[] = [];
    for (const d of this.dirs) {
      for (const pid of pids) {
        try {
          writeFileSync(join(d.dir, 'cgroup.procs'), String(pid));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ESRCH') {
            if (!gone.includes(pid)) gone.push(pid);
          } else throw e;
        }
      }
    }
    return gone;
  }

  /** Processes in the cgroup now. */
  pids(controller: Controller = this.dirs[0]!.controller): number[] {
    return parsePids(this.read(controller, 'cgroup.procs'));
  }

  /** Moves every process back where it came from and removes the directories; safe to repeat. */
  destroy(): void {
    const errors: string[] = [];
    for (const d of [...this.dirs].reverse()) {
      try {
        releaseCgroup(d.dir, d.returnTo, this.opts.removeDir);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new Error(errors.join('; '));
  }

  /** The journal's undo for this cgroup. */
  undo(): { type: 'cgroup'; dirs: { dir: string; returnTo: string }[] } {
    return { type: 'cgroup', dirs: this.dirs.map((d) => ({ dir: d.dir, returnTo: d.returnTo })) };
  }
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

function canDelegate(dir: string, controller: Controller): boolean {
  const procs = parsePids(readText(join(dir, 'cgroup.procs')));
  if (procs.length === 0) return true;
  return (readText(join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/).includes(controller);
}

function parsePids(text: string | undefined): number[] {
  return (text ?? '')
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * Moves a cgroup's processes to `returnTo` and removes it (used by undo and by
 * `faultline recover`). A directory already gone is fine; so is a process that
 * exited meanwhile.
 */
export function releaseCgroup(dir: string, returnTo: string, removeDir: (d: string) => void = (d) => rmdirSync(d)): void {
  if (!existsSync(dir)) return;
  for (let attempt = 0; ; attempt++) {
    for (const pid of parsePids(readText(join(dir, 'cgroup.procs')))) {
      try {
        writeFileSync(join(returnTo, 'cgroup.procs'), String(pid));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new Error(`cannot move pid ${pid} back to ${returnTo}: ${(e as Error).message}`);
      }
    }
    try {
      removeDir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // A process forked while we moved its siblings: move again (bounded).
      if (code === 'EBUSY' && attempt < 20) continue;
      throw new Error(`cannot remove cgroup ${dir}: ${(e as Error).message}`);
    }
  }
}

/** Cgroup directories named like a fault's (`faultline-<pid>-<n>`) under a mount, for leftover checks. */
export function faultCgroupsUnder(dir: string, depth = 3): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return out;
  }
  for (const n of names) {
    if (/^faultline-\d+-\d+$/.test(n)) out.push(join(dir, n));
    else if (depth > 0) out.push(...faultCgroupsUnder(join(dir, n), depth - 1));
  }
  return out;
}
