/**
 * `SkillMeat: Diagnose SkillMeat Cache`: the server's `skillmeat.doctor` report (SkillMeat's own
 * `~/.skillmeat/cache/cache.db`, inspected read-only) turned into what the extension shows.
 * No `vscode` import: unit-tested.
 */

export interface DoctorView {
  level: 'info' | 'warning' | 'error';
  /** One line for the notification. */
  message: string;
  /** The whole report, for the output channel. */
  text: string;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/** What to show for a `skillmeat.doctor` result (anything the server may send, even nothing). */
export function describeDoctorReport(result: unknown): DoctorView {
  const report = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
  const verdict = str(report.verdict) ?? 'unknown';
  const path = str(report.path) ?? "SkillMeat's cache.db";
  const stateText = str(report.state_text) ?? str(report.state) ?? 'state unknown';
  const text = str(report.text) ?? `SkillMeat cache: ${path}\nstate:      ${stateText}`;
  const short = stateText.split(':')[0];
  switch (verdict) {
    case 'broken':
      return {
        level: 'error',
        message: `SkillMeat's cache is broken (${short}). Run \`skillmeat-ls doctor --repair\` to rebuild it and keep your collections and groups.`,
        text,
      };
    case 'heals-itself':
      return { level: 'info', message: `SkillMeat's cache: ${short}; SkillMeat fixes this itself on its next start.`, text };
    case 'healthy':
      return { level: 'info', message: `SkillMeat's cache is healthy (${short}).`, text };
    default: {
      const why = str(report.skillmeat_problem);
      return {
        level: 'warning',
        message: `SkillMeat's cache: ${short}; doctor could not tell whether SkillMeat can open it${why ? ` (${why})` : ''}.`,
        text,
      };
    }
  }
}
