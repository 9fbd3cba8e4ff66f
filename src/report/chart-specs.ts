/**
 * The charts of a training run, declared once: `spell report` renders them to static SVG and
 * `spell dashboard` draws them live. A series is a metric key, or a key template over the tasks or
 * roles a run actually logged (discovered from its metric keys, not from a closed list), so a new
 * task or role shows up without touching this file.
 */

/** One line of a chart: a fixed metric key, or a template expanded per task or per role. */
export type SeriesSpec =
  | { readonly key: string; readonly name: string }
  | { readonly template: string; readonly over: 'task' | 'role' };

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly series: readonly SeriesSpec[];
}

export const CHART_SPECS: readonly ChartSpec[] = [
  {
    id: 'reward-role',
    title: 'Mean reward per role',
    series: [{ template: 'critic/role/{}/rewards/mean', over: 'role' }],
  },
  {
    id: 'pass-task',
    title: 'Responder pass rate per task',
    series: [{ template: 'responder/task/{}/pass_rate', over: 'task' }],
  },
  {
    id: 'rule-task',
    title: 'Responder rule accuracy per task (before the verifier)',
    series: [{ template: 'responder/task/{}/rule_accuracy', over: 'task' }],
  },
  {
    id: 'difficulty',
    title: 'Question difficulty (1 - pass rate)',
    series: [{ template: 'questions/task/{}/difficulty', over: 'task' }],
  },
  {
    id: 'verifier',
    title: 'Verifier',
    series: [
      { key: 'critic/role/verifier/rewards/mean', name: 'agreement reward' },
      { key: 'verifier/rule_disagreement_rate', name: 'majority vs rule disagreement' },
      { key: 'verifier/invalid_vote_rate', name: 'invalid votes' },
    ],
  },
  {
    id: 'length-role',
    title: 'Response length per role (tokens)',
    series: [{ template: 'response_length/role/{}/mean', over: 'role' }],
  },
  {
    id: 'context-task',
    title: 'Questioner context (documents per question)',
    series: [{ template: 'context/task/{}/documents_mean', over: 'task' }],
  },
  {
    id: 'outcomes',
    title: 'Questioner outcomes per step',
    series: [
      { key: 'count/questioner/parse/ok', name: 'parsed' },
      { key: 'count/questioner/parse/format_error', name: 'bad_format' },
      { key: 'count/questioner/bad_ground', name: 'bad_ground' },
      { key: 'count/questioner/bad_repeat', name: 'bad_repeat' },
      { key: 'count/responder/zero_variance', name: 'zero_variance' },
      { key: 'train/responder_groups', name: 'groups kept' },
    ],
  },
  {
    id: 'update',
    title: 'Update',
    series: [
      { key: 'actor/pg_loss', name: 'pg loss' },
      { key: 'actor/grad_norm', name: 'grad norm' },
    ],
  },
  { id: 'time', title: 'Step time (s)', series: [{ key: 'timing_s/step', name: 'step' }] },
];

/** Used when a run has logged no per-task or per-role key yet, so empty charts still name lines. */
export const DEFAULT_TASKS: readonly string[] = ['docmath', 'qa', 'mc'];
export const DEFAULT_ROLES: readonly string[] = ['questioner', 'responder', 'verifier'];

/** The tasks and roles that appear in metric keys (`…/task/<t>/…`, `…/role/<r>/…`), sorted. */
export function discoverGroups(keys: Iterable<string>): { tasks: string[]; roles: string[] } {
  const tasks = new Set<string>();
  const roles = new Set<string>();
  for (const k of keys) {
    const t = /\/task\/([^/]+)\//.exec(k);
    if (t?.[1] !== undefined) tasks.add(t[1]);
    const r = /\/role\/([^/]+)\//.exec(k);
    if (r?.[1] !== undefined) roles.add(r[1]);
  }
  return { tasks: [...tasks].sort(), roles: [...roles].sort() };
}

/** One concrete line of a chart: its metric key, its legend name, and the task/role it belongs to. */
export interface ExpandedSeries {
  readonly key: string;
  readonly name: string;
  readonly task?: string;
  readonly role?: string;
}

/** Expand a chart's templates over the given tasks and roles (the defaults when none are known). */
export function expandSeries(
  spec: ChartSpec,
  groups: { readonly tasks: readonly string[]; readonly roles: readonly string[] },
): ExpandedSeries[] {
  const tasks = groups.tasks.length > 0 ? groups.tasks : DEFAULT_TASKS;
  const roles = groups.roles.length > 0 ? groups.roles : DEFAULT_ROLES;
  const out: ExpandedSeries[] = [];
  for (const s of spec.series) {
    if ('key' in s) {
      const role = /\/role\/([^/]+)\//.exec(s.key)?.[1];
      out.push({ key: s.key, name: s.name, ...(role !== undefined ? { role } : {}) });
    } else if (s.over === 'task') {
      for (const t of tasks) out.push({ key: s.template.replace('{}', t), name: t, task: t });
    } else {
      for (const r of roles) out.push({ key: s.template.replace('{}', r), name: r, role: r });
    }
  }
  return out;
}
