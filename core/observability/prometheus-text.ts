/**
 * Reads the Prometheus text exposition format (what `/metrics` answers) back
 * into samples, for tests and tools that check what a process exports.
 * prom-client writes the format but has no reader.
 */

/** One sample line: `name{labels} value`. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/**
 * Parses every sample line (comments and blank lines skipped). Label values
 * are unescaped (`\\`, `\"`, `\n`); values `+Inf`, `-Inf` and `NaN` are read
 * as numbers. Throws on a malformed line, naming it.
 */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    samples.push(parseLine(line));
  }
  return samples;
}

function parseLine(line: string): MetricSample {
  const fail = (why: string): never => {
    throw new Error(`malformed metrics line (${why}): ${line}`);
  };
  const name = NAME.exec(line)?.[0] ?? fail('no metric name');
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    while (line[at] !== '}') {
      const key = NAME.exec(line.slice(at))?.[0] ?? fail('bad label name');
      at += key.length;
      if (line[at] !== '=' || line[at + 1] !== '"') fail(`label ${key} has no quoted value`);
      at += 2;
      let value = '';
      for (;;) {
        const char = line[at++];
        if (char === undefined) fail('unterminated label value');
        if (char === '"') break;
        if (char === '\\') {
          const next = line[at++];
          value += next === 'n' ? '\n' : (next ?? '');
        } else {
          value += char;
        }
      }
      labels[key] = value;
      if (line[at] === ',') at++;
      else if (line[at] !== '}') fail('expected , or } after a label');
    }
    at++;
  }
  const [valueText] = line.slice(at).trim().split(/\s+/);
  const value =
    valueText === '+Inf'
      ? Infinity
      : valueText === '-Inf'
        ? -Infinity
        : valueText === 'NaN' || valueText === 'Nan'
          ? NaN
          : Number(valueText);
  if (
    valueText === undefined ||
    valueText === '' ||
    (Number.isNaN(value) && valueText !== 'NaN' && valueText !== 'Nan')
  )
    fail('bad value');
  return { name, labels, value };
}

/**
 * The value of the one sample named `name` whose labels include `labels`
 * (others may have more); `undefined` when there is none. Throws when
 * several match, so a check cannot silently read the wrong series.
 */
export function sampleValue(
  samples: readonly MetricSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const matching = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (matching.length > 1)
    throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}; name more labels`);
  return matching[0]?.value;
}
