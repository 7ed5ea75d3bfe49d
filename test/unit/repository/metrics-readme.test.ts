import { describe, expect, it } from 'vitest';
import type { MetricDescription } from '../../../src/metrics/metric-registry.js';
import { Metrics } from '../../../src/metrics/metrics.js';
import { readDocument } from '../../support/documentation.js';

const DOCUMENT = 'docs/admin-api.md';
const README = readDocument(DOCUMENT);
const HEADING = '## Metrics';
const HEADER_ROW = '| name | type | labels | meaning |';
const NO_LABELS = '—';

/** The rows of the table under `### Metrics`, read as metric descriptions; a row it cannot read throws, naming it. */
function metricsTable(markdown: string): MetricDescription[] {
  const lines = markdown.split('\n');
  const heading = lines.indexOf(HEADING);
  if (heading < 0) throw new Error(`${DOCUMENT} has no "${HEADING}" heading`);
  const section = lines.slice(heading + 1);
  const sectionEnd = section.findIndex((line) => line.startsWith('#'));
  const header = section.slice(0, sectionEnd < 0 ? undefined : sectionEnd).findIndex((line) => line.startsWith('|'));
  if (section[header] !== HEADER_ROW) throw new Error(`the table under "${HEADING}" must start with "${HEADER_ROW}"`);
  if (!/^\|( *:?-+:? *\|){4}$/.test(section[header + 1] ?? ''))
    throw new Error(`the table under "${HEADING}" lacks its separator row`);
  const rows = section.slice(header + 2);
  const tableEnd = rows.findIndex((line) => !line.startsWith('|'));
  return rows.slice(0, tableEnd < 0 ? undefined : tableEnd).map(readRow);
}

function readRow(row: string): MetricDescription {
  const cells = row
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
  const [nameCell = '', type = '', labelsCell = '', help = ''] = cells;
  const name = /^`(sipdr_[a-z_]+)`$/.exec(nameCell)?.[1];
  const labels =
    labelsCell === NO_LABELS ? [] : labelsCell.split(',').map((label) => /^`([a-z_]+)`$/.exec(label.trim())?.[1]);
  if (
    cells.length !== 4 ||
    !name ||
    !['counter', 'gauge', 'histogram'].includes(type) ||
    labels.some((label) => label === undefined)
  ) {
    throw new Error(
      `cannot read the metrics table row ${JSON.stringify(row)}: want | \`name\` | type | \`label\`, \`label\` or ${NO_LABELS} | meaning |`,
    );
  }
  return { name, type: type as MetricDescription['type'], labels: labels as string[], help };
}

const byName = (a: MetricDescription, b: MetricDescription) => (a.name < b.name ? -1 : 1);

describe('the metrics table of docs/admin-api.md', () => {
  it('lists every metric with its type, labels and help, and nothing else', () => {
    const described = new Metrics().describe();
    expect(described.length).toBeGreaterThan(10);
    expect(metricsTable(README).sort(byName)).toEqual(described.sort(byName));
  });
});
