/** The one-line summary printed after each step. */

function fmt(x: number | undefined, digits = 3): string {
  return x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

export function formatStepSummary(step: number, m: Readonly<Record<string, number>>): string {
  const asked = m['count/questioner/parse/ok'] ?? 0;
  const total =
    asked +
    (m['count/questioner/parse/format_error'] ?? 0) +
    (m['count/questioner/parse/invalid_answer'] ?? 0) +
    (m['count/questioner/parse/unfinished_think'] ?? 0);
  const parts = [
    `step ${step}`,
    `reward q ${fmt(m['critic/role/questioner/rewards/mean'])} r ${fmt(m['critic/role/responder/rewards/mean'])} v ${fmt(m['critic/role/verifier/rewards/mean'])}`,
    `pass ${fmt(m['responder/pass_rate'], 2)}`,
    `questions ${asked}/${total} parsed, ${m['train/responder_groups'] ?? 0} kept, bad_format ${m['count/questioner/parse/format_error'] ?? 0}, bad_ground ${m['count/questioner/bad_ground'] ?? 0},${m['count/questioner/bad_repeat'] ? ` bad_repeat ${m['count/questioner/bad_repeat']},` : ''} zero_var ${m['count/responder/zero_variance'] ?? 0}`,
    `verifier agree ${fmt(m['critic/role/verifier/rewards/mean'], 2)} rule-disagree ${fmt(m['verifier/rule_disagreement_rate'], 2)}`,
    m['count/train/skipped_update'] ? 'update skipped' : `loss ${fmt(m['actor/pg_loss'], 4)}`,
    `${fmt(m['timing_s/step'], 1)}s`,
  ];
  return parts.join(' | ');
}
