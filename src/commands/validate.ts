import type { Command } from 'commander';
import { addScenarioFlags, resolveScenario, type ScenarioFlags } from './options.ts';

/** "3 faults", or "2 faults (7 occurrences)" when some repeat. */
function faultCount(faults: readonly { series?: { name: string } }[]): string {
  const written = new Set(faults.map((f, i) => f.series?.name ?? `#${i}`)).size;
  const more = written !== faults.length ? ` (${faults.length} occurrences)` : '';
  return `${written} fault${written === 1 ? '' : 's'}${more}`;
}

/** `faultline validate <file>`: checks a scenario without running it; exit 0 when valid, 2 with every problem otherwise. */
export function register(program: Command): void {
  addScenarioFlags(program.command('validate').argument('[scenario]', 'scenario file (.ts, .js, .json, .yaml)').description('check a scenario without running it')).action(
    async (file: string | undefined, flags: ScenarioFlags) => {
      const s = await resolveScenario(file, flags);
      const stages: string[] = [];
      if (s.baseline) stages.push(s.baseline.label);
      const p = s.makeProfile();
      if (!p.adaptive) for (let st = p.next(); st; st = p.next()) stages.push(st.label);
      process.stdout.write(
        `${file ?? 'ad-hoc scenario'}: valid — ${s.requests.length} request${s.requests.length > 1 ? 's' : ''} to ${s.target}, ${s.profileName} profile${
          p.adaptive ? ' (adaptive)' : `, ${stages.length} stage${stages.length > 1 ? 's' : ''}`
        }, ${s.hypothesis.length} hypothesis clause${s.hypothesis.length === 1 ? '' : 's'}, ${faultCount(s.faults)}\n`,
      );
      for (const w of s.warnings) process.stdout.write(`  warning: ${w}\n`);
      // A repeating fault's plan, so a user sees when the monkey strikes before anything runs.
      const fmt = (ms: number) => (ms >= 1000 || ms === 0 ? `${+(ms / 1000).toFixed(ms % 1000 ? 1 : 0)}s` : `${Math.round(ms)}ms`);
      for (const sc of s.schedules) {
        const shown = sc.occurrences.slice(0, 8).map((o) => `${fmt(o.atMs)}${o.target ? ` ${o.target}` : ''}`);
        const more = sc.occurrences.length > shown.length ? `, … (${sc.occurrences.length - shown.length} more)` : '';
        const skipped = sc.skipped.length ? `; ${sc.skipped.length} skipped (maxConcurrent reached)` : '';
        const capped = sc.capped ? '; capped at 10,000 occurrences' : '';
        process.stdout.write(`  ${sc.kind} "${sc.name}" repeats ${sc.occurrences.length}× within ${fmt(sc.horizonMs)}: ${shown.join(', ')}${more}${skipped}${capped}\n`);
      }
    },
  );
}
