/**
 * VS Code settings → the server's initialization options and `workspace/configuration` answer.
 *
 * The server reads one object, section `skillmeat`:
 * `{home, cachePath, rules: {SM121: false}, severity: {SM140: "hint"}, trusted}`.
 */

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface SkillmeatOptions {
  home: string | null;
  cachePath: string | null;
  rules: Record<string, boolean>;
  severity: Record<string, Severity>;
  trusted: boolean;
}

export interface RawSettings {
  home?: unknown;
  cachePath?: unknown;
  rules?: unknown;
  severity?: unknown;
}

const CODE = /^SM\d{3}$/;

const SEVERITY_ALIASES: Record<string, Severity> = {
  error: 'error',
  warning: 'warning',
  warn: 'warning',
  information: 'information',
  info: 'information',
  hint: 'hint',
};

function pathOrNull(value: unknown, expand: (value: string) => string): string | null {
  if (typeof value !== 'string' || value.trim() === '') {
    return null;
  }
  return expand(value.trim());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function normalizeRules(value: unknown): Record<string, boolean> {
  const rules: Record<string, boolean> = {};
  if (!isRecord(value)) {
    return rules;
  }
  for (const [key, enabled] of Object.entries(value)) {
    const code = key.trim().toUpperCase();
    if (CODE.test(code) && typeof enabled === 'boolean') {
      rules[code] = enabled;
    }
  }
  return rules;
}

export function normalizeSeverity(value: unknown): Record<string, Severity> {
  const severity: Record<string, Severity> = {};
  if (!isRecord(value)) {
    return severity;
  }
  for (const [key, level] of Object.entries(value)) {
    const code = key.trim().toUpperCase();
    const normalized = typeof level === 'string' ? SEVERITY_ALIASES[level.trim().toLowerCase()] : undefined;
    if (CODE.test(code) && normalized) {
      severity[code] = normalized;
    }
  }
  return severity;
}

export function buildOptions(
  raw: RawSettings,
  context: { trusted: boolean; expand?: (value: string) => string },
): SkillmeatOptions {
  const expand = context.expand ?? ((value: string) => value);
  return {
    home: pathOrNull(raw.home, expand),
    cachePath: pathOrNull(raw.cachePath, expand),
    rules: normalizeRules(raw.rules),
    severity: normalizeSeverity(raw.severity),
    trusted: context.trusted,
  };
}

/** Settings whose change needs a new server process (different home, cache or program). */
export const RESTART_SETTINGS: readonly string[] = [
  'skillmeat.home',
  'skillmeat.cachePath',
  'skillmeat.server.command',
  'skillmeat.python.interpreter',
];

/** Settings the running server takes through `workspace/didChangeConfiguration`. */
export const RECONFIGURE_SETTINGS: readonly string[] = ['skillmeat.rules', 'skillmeat.severity'];

export type ConfigChange = 'restart' | 'reconfigure' | 'none';

/** `affects` is `ConfigurationChangeEvent.affectsConfiguration`. */
export function classifyConfigChange(affects: (section: string) => boolean): ConfigChange {
  if (RESTART_SETTINGS.some((section) => affects(section))) {
    return 'restart';
  }
  if (RECONFIGURE_SETTINGS.some((section) => affects(section))) {
    return 'reconfigure';
  }
  return 'none';
}
