/**
 * A strict reader of the Prometheus text exposition format, version 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats). Anything it does not
 * understand throws with the line number, so a malformed scrape fails a test
 * instead of reading as "no such series".
 *
 * Written here because the npm parser (parse-prometheus-text-format) drops
 * the labels of histogram buckets and the labelled _sum/_count (its issue
 * #13, open since 2020), and checks neither values nor repeated series.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** As written, with a histogram's _bucket/_sum/_count suffix. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs: number | undefined;
}

export interface MetricFamily {
  readonly name: string;
  type: MetricType;
  help: string | undefined;
  readonly samples: Sample[];
}

export class ExpositionError extends Error {
  constructor(lineNumber: number, line: string, problem: string) {
    super(`exposition line ${lineNumber}: ${problem}: ${JSON.stringify(line)}`);
    this.name = 'ExpositionError';
  }
}

/** Parses a whole exposition into its metric families, by family name, in order. */
export function parseExposition(text: string): Map<string, MetricFamily> {
  const lines = text.split('\n');
  const last = lines.pop();
  if (last !== '')
    throw new ExpositionError(lines.length + 1, last ?? '', 'the last line does not end with a line feed');
  const reader = new ExpositionReader();
  lines.forEach((line, index) => reader.read(line, index + 1));
  return reader.families;
}

/** The value of the one series `name{labels}`, labels matched exactly; undefined when it is not exposed. */
export function sampleValue(
  families: ReadonlyMap<string, MetricFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const wanted = seriesKey(name, labels);
  for (const family of families.values()) {
    const found = family.samples.find((sample) => seriesKey(sample.name, sample.labels) === wanted);
    if (found) return found.value;
  }
  return undefined;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const METADATA = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/;
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TIMESTAMP = /^-?\d+$/;

/** The suffixed sample names that belong to a family of each type. */
const SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: [],
  gauge: [],
  untyped: [],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return name + JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

class ExpositionReader {
  readonly families = new Map<string, MetricFamily>();
  private readonly typed = new Set<string>();
  private readonly series = new Set<string>();
  private current: MetricFamily | undefined;
  private line = '';
  private lineNumber = 0;

  read(line: string, lineNumber: number): void {
    this.line = line;
    this.lineNumber = lineNumber;
    if (line.trim() === '') return;
    if (line.startsWith('#')) this.readMetadata();
    else this.readSample();
  }

  private fail(problem: string): never {
    throw new ExpositionError(this.lineNumber, this.line, problem);
  }

  /** The family of that name, which must be the current one if it exists: a family's lines form one group. */
  private enter(name: string): MetricFamily {
    const known = this.families.get(name);
    if (known && known !== this.current) this.fail(`family ${name} appears again after another family`);
    const family = known ?? { name, type: 'untyped', help: undefined, samples: [] };
    this.families.set(name, family);
    this.current = family;
    return family;
  }

  private readMetadata(): void {
    const match = METADATA.exec(this.line);
    // Any other line starting with # is a comment, which the format ignores.
    if (!match) return;
    const [, keyword, name = '', rest = ''] = match;
    if (METRIC_NAME.exec(name)?.[0] !== name) this.fail(`invalid metric name ${name}`);
    const family = this.enter(name);
    if (keyword === 'HELP') {
      if (family.help !== undefined) this.fail(`a second HELP for ${name}`);
      family.help = this.unescapeHelp(rest);
      return;
    }
    if (!TYPES.includes(rest)) this.fail(`unknown type ${JSON.stringify(rest)}`);
    if (this.typed.has(name)) this.fail(`a second TYPE for ${name}`);
    if (family.samples.length > 0) this.fail(`TYPE for ${name} after its samples`);
    this.typed.add(name);
    family.type = rest as MetricType;
  }

  private unescapeHelp(text: string): string {
    return text.replace(/\\(.?)/g, (_escape, next: string) => {
      if (next === '\\') return '\\';
      if (next === 'n') return '\n';
      return this.fail(`invalid escape \\${next} in HELP`);
    });
  }

  private readSample(): void {
    const { line } = this;
    const name = METRIC_NAME.exec(line)?.[0] ?? this.fail('a sample line must start with a metric name');
    const [labels, afterLabels] = line[name.length] === '{' ? this.readLabels(name.length + 1) : [{}, name.length];
    if (line[afterLabels] !== ' ' && line[afterLabels] !== '\t') this.fail('expected a blank before the value');
    const tokens = line
      .slice(afterLabels)
      .trim()
      .split(/[ \t]+/);
    if (tokens.length > 2) this.fail('unexpected text after the timestamp');
    const [valueText = '', timestampText] = tokens;
    if (timestampText !== undefined && !TIMESTAMP.test(timestampText)) this.fail(`invalid timestamp ${timestampText}`);
    const sample = {
      name,
      labels,
      value: this.readValue(valueText),
      timestampMs: timestampText === undefined ? undefined : Number(timestampText),
    };

    const family = this.enter(this.familyNameOf(name));
    this.checkBelongs(sample, family);
    const key = seriesKey(name, labels);
    if (this.series.has(key)) this.fail('the same series appears twice');
    this.series.add(key);
    family.samples.push(sample);
  }

  /** The labels from `at` (after the opening brace) and the index after the closing brace. */
  private readLabels(at: number): [Record<string, string>, number] {
    const { line } = this;
    const labels: Record<string, string> = {};
    for (;;) {
      at = skipBlanks(line, at);
      if (line[at] === '}') return [labels, at + 1];
      const labelName = LABEL_NAME.exec(line.slice(at))?.[0] ?? this.fail(`expected a label name at column ${at + 1}`);
      if (labelName in labels) this.fail(`label ${labelName} given twice`);
      at = skipBlanks(line, at + labelName.length);
      if (line[at] !== '=') this.fail(`expected = after label ${labelName}`);
      at = skipBlanks(line, at + 1);
      if (line[at] !== '"') this.fail(`expected " to open the value of label ${labelName}`);
      const [value, end] = this.readLabelValue(at + 1);
      labels[labelName] = value;
      at = skipBlanks(line, end);
      if (line[at] === ',') at++;
      else if (line[at] !== '}') this.fail(`expected , or } after label ${labelName}`);
    }
  }

  /** The label value from `at` (after its opening quote) and the index after its closing quote. */
  private readLabelValue(at: number): [string, number] {
    const { line } = this;
    let value = '';
    for (let index = at; index < line.length; index++) {
      const char = line[index];
      if (char === '"') return [value, index + 1];
      if (char !== '\\') {
        value += char;
        continue;
      }
      const next = line[++index];
      if (next === '\\' || next === '"') value += next;
      else if (next === 'n') value += '\n';
      else this.fail(`invalid escape \\${next ?? ''} in a label value`);
    }
    return this.fail('unterminated label value');
  }

  private readValue(text: string): number {
    if (DECIMAL.test(text)) return Number(text);
    // Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case (prom-client writes "Nan").
    if (/^nan$/i.test(text)) return NaN;
    if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
    return this.fail(`invalid value ${JSON.stringify(text)}`);
  }

  /** x_bucket, x_sum and x_count belong to family x when x is a histogram or summary. */
  private familyNameOf(sampleName: string): string {
    for (const family of this.families.values()) {
      if (SUFFIXES[family.type].some((suffix) => sampleName === family.name + suffix)) return family.name;
    }
    return sampleName;
  }

  private checkBelongs(sample: Sample, family: MetricFamily): void {
    if (family.type === 'histogram') {
      if (sample.name === family.name)
        this.fail(`histogram ${family.name} has a sample without _bucket, _sum or _count`);
      const le = sample.labels.le ?? '';
      if (sample.name.endsWith('_bucket') && !DECIMAL.test(le) && le !== '+Inf')
        this.fail('a bucket needs an le label with its upper bound');
    }
    if (family.type === 'summary' && sample.name === family.name && sample.labels.quantile === undefined)
      this.fail('a summary quantile needs a quantile label');
  }
}

function skipBlanks(line: string, at: number): number {
  while (line[at] === ' ' || line[at] === '\t') at++;
  return at;
}
