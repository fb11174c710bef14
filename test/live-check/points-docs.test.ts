// docs/protocol.md says, for every unconfirmed point, whether the live check asks it; the kit's
// own questions are listed there too; the README says what a run costs. A point or a text added
// on one side without the other fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POINTS } from '../../src/live-check/points';
import { PROBES } from '../../src/live-check/probes';
import { maxCharacters, selectProbes } from '../../src/live-check/run';

const protocol = readFileSync(join(__dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');
const section = (heading: string): string => {
  const start = protocol.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/protocol.md has "## ${heading}"`);
  const next = protocol.indexOf('\n## ', start + 1);
  return protocol.slice(start, next < 0 ? undefined : next);
};

const unconfirmed = [...section('Unconfirmed points').matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1] as string);
const liveCheck = section('The live check');
const [ownTable, notAskedTable] = liveCheck.split('Points it does not ask');
/** The ids in backticks in a table's first column. */
const firstColumnIds = (table: string | undefined): string[] =>
  (table ?? '').split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...(l.split(' | ')[0] as string).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string));

describe('live-check: the points and docs/protocol.md agree', () => {
  const asked = new Set(POINTS.map((p) => p.id));
  const notAsked = firstColumnIds(notAskedTable);
  const own = firstColumnIds(ownTable);

  it('finds both lists (a check over empty lists would prove nothing)', () => {
    assert.ok(unconfirmed.length > 40, `${unconfirmed.length} unconfirmed points`);
    assert.ok(notAsked.length > 10 && own.length > 5, `${notAsked.length} not asked, ${own.length} own`);
  });

  it('every unconfirmed point is asked by the check or listed as not asked, never both', () => {
    assert.deepEqual(unconfirmed.filter((id) => !asked.has(id) && !notAsked.includes(id)), []);
    assert.deepEqual(notAsked.filter((id) => asked.has(id)), []);
    assert.deepEqual(notAsked.filter((id) => !unconfirmed.includes(id)), [], 'the not-asked list names real points');
  });

  it("every point the check asks is an unconfirmed point or one of the check's own questions in the docs", () => {
    const ownPattern = (id: string): boolean => own.some((o) => (o.endsWith('<model>') ? id.startsWith(o.slice(0, -'<model>'.length)) : o === id));
    assert.deepEqual([...asked].filter((id) => !unconfirmed.includes(id) && !ownPattern(id)), []);
  });

  it("the README's cost is what the probes' texts bill, and under the issue's 2,000 characters", () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const m = /A run costs at most (\d+) billed characters, (\d+) with\s+`--long`/.exec(readme);
    assert.ok(m, 'README states the cost of a run and of --long');
    const quick = maxCharacters(selectProbes(PROBES, {}));
    const long = maxCharacters(selectProbes(PROBES, { long: true }));
    assert.deepEqual([Number(m[1]), Number(m[2])], [quick, long]);
    assert.ok(long < 2000, `${long} characters with --long`);
  });
});
