// The results file (bench/results/<date>.md) and the README summary (latest-summary.md).

function fmt(v, digits) {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  if (digits !== undefined) return v.toFixed(digits);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function metText(met) {
  if (met === undefined) return '**not measured**';
  return met ? '**met**' : '**not met**';
}

function sectionTable(s) {
  const head = ['tool', `median (${s.rows[0]?.unit ?? ''})`, s.ttyView ? 'ratio to plain' : 'ratio to floor'];
  if (s.showTotal) head.push('median total (ms)');
  if (s.showRss) head.push('peak RSS (MiB)');
  head.push('runs');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const r of s.rows) {
    const cells = [r.label, fmt(r.value), r.ratio !== undefined ? `${fmt(r.ratio, 2)}×` : '—'];
    if (s.showTotal) cells.push(fmt(r.totalMs));
    if (s.showRss) cells.push(r.rssKiB !== undefined ? fmt(r.rssKiB / 1024) : '—');
    cells.push(r.failures.length ? `${r.runs} ok, ${r.failures.length} failed` : String(r.runs));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function samplesBlock(s) {
  const ms = (xs) => (xs?.length ? xs.map((x) => x.toFixed(0)).join(', ') : '—');
  const lines = ['<details><summary>raw wall times (ms), in run order</summary>', ''];
  for (const r of s.rows) {
    lines.push(r.samplesOne ? `- ${r.label}: 1 step: ${ms(r.samplesOne)}; all steps: ${ms(r.samples)}` : `- ${r.label}: ${ms(r.samples)}`);
  }
  lines.push('', '</details>');
  return lines.join('\n');
}

function failureNotes(s) {
  const out = [];
  for (const r of s.rows) {
    if (!r.failures.length) continue;
    const first = r.failures[0].replace(/\s+/g, ' ').slice(0, 400);
    out.push(`- ${r.label}: ${r.failures.length} failed run(s); first: \`${first.replace(/`/g, "'")}\``);
  }
  return out.join('\n');
}

export function renderResults({ date, command, machine, versions, mode, sections, skipped, notes }) {
  const out = [];
  out.push(`# Chopsticks benchmark — ${date}`);
  out.push('');
  out.push(
    `Command: \`${command}\` (${mode.name} mode: ${mode.reps} interleaved repetitions per figure, median; slow third-party tools ${mode.slowReps}).`,
  );
  out.push('');
  out.push('## Machine');
  out.push('');
  for (const [k, v] of Object.entries(machine)) out.push(`- ${k}: ${v}`);
  for (const [k, v] of Object.entries(versions)) out.push(`- ${k}: ${v}`);
  out.push('');
  out.push('## Summary');
  out.push('');
  out.push(summaryTable(sections));
  out.push('');
  out.push('## How to read this');
  out.push('');
  out.push(
    'Every tool is run as a whole process, as a user would run it, on the same loopback test bed ' +
      '(sshd daemons on 127.0.x.y addresses, a /bin/sh test user; busybox containers). The floor is a ' +
      'minimal Node script using ssh2 (or dockerode) that does only the work itself: one connection per ' +
      'host and a long-lived `sh` fed the commands (or one channel streaming the file). Repetitions are ' +
      'interleaved (A, B, C, A, B, C, ...) and every ratio compares medians from the same run. Warm-step ' +
      'figures are taken by difference between a 1-step and a K-step run of the same tool, which removes ' +
      'start-up and connection set-up from the figure.',
  );
  out.push('');
  for (const s of sections) {
    out.push(`## ${s.id}: ${s.title}`);
    out.push('');
    out.push(
      `Metric: ${s.metric}. Target: ${s.target} — ${metText(s.met)}${s.note ? ` (${s.note})` : s.achieved !== undefined ? ` (${fmt(s.achieved, 2)})` : ''}.`,
    );
    out.push('');
    out.push(sectionTable(s));
    out.push('');
    out.push(samplesBlock(s));
    const f = failureNotes(s);
    if (f) {
      out.push('');
      out.push(f);
    }
    out.push('');
  }
  if (skipped.length || notes.length) {
    out.push('## Skipped and notes');
    out.push('');
    for (const s of skipped) out.push(`- skipped: ${s}`);
    for (const n of notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}

function summaryTable(sections) {
  const lines = ['| workload | Chopsticks | target | result |', '| --- | --- | --- | --- |'];
  for (const s of sections) {
    const chop = s.rows.find((r) => /chopsticks/.test(r.id) && !/w7-node/.test(r.id));
    let fig;
    if (s.id === 'W7')
      fig = s.rows
        .filter((r) => r.id !== 'w7-node')
        .map((r) => `${r.label.replace('Chopsticks: ', '')} ${fmt(r.value)} ms`)
        .join(', ');
    else if (s.id === 'W5') fig = `${fmt(chop?.value)} MiB peak RSS (floor ${fmt(s.rows.find((r) => r.id === 'w5-floor')?.value)} MiB)`;
    else if (s.ttyView)
      fig = `${fmt(chop?.value)} ms against plain ${fmt(s.rows.find((r) => r !== chop)?.value)} ms (${fmt(chop?.ratio, 2)}×)`;
    else if (s.id === 'W6') fig = `${fmt(chop?.value)} ms/step/container (${fmt(chop?.ratio, 2)}× floor)`;
    else if (s.higherIsBetter) fig = `${fmt(chop?.value)} MiB/s (${s.note ?? `${fmt(chop?.ratio, 2)}× floor`})`;
    else fig = `${fmt(chop?.value)} ms (${fmt(chop?.ratio, 2)}× floor)`;
    lines.push(`| ${s.id} ${s.title.split(':')[0]} | ${fig} | ${s.target.replace('Chopsticks ', '')} | ${metText(s.met)} |`);
  }
  return lines.join('\n');
}

export function renderSummary({ date, command, machine, sections, file }) {
  return [
    `Benchmarks (${date}; ${machine.cpus} CPUs, ${machine.memory}, Node ${machine.node}; \`${command}\`; full tables in [${file}](${file})):`,
    '',
    summaryTable(sections),
    '',
  ].join('\n');
}
