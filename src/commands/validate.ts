import type { Command } from 'commander';
import { addScenarioFlags, resolveScenario, type ScenarioFlags } from './options.ts';

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
        }, ${s.hypothesis.length} hypothesis clause${s.hypothesis.length === 1 ? '' : 's'}, ${s.faults.length} fault${s.faults.length === 1 ? '' : 's'}\n`,
      );
    },
  );
}
