// Code comments cite the repository's own notes (docs/protocol.md, docs/architecture.md) by
// heading, and the protocol's unconfirmed points by id: every citation must lead somewhere.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function headings(doc: string): Set<string> {
  return new Set([...readFileSync(join(ROOT, 'docs', doc), 'utf8').matchAll(/^#{1,4} (.+)$/gm)].map((m) => (m[1] as string).trim()));
}

describe('architecture: the notes code comments cite', () => {
  const files = [...tsFiles(join(ROOT, 'src')), ...tsFiles(join(ROOT, 'test')), ...tsFiles(join(ROOT, 'bench'))];
  const citations = files.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/docs\/(protocol|architecture)\.md "([^"]+)"(?: ([a-z0-9]+(?:-[a-z0-9]+)+))?/g)].map((m) => ({
      where: relative(ROOT, file),
      doc: `${m[1]}.md`,
      // A citation may wrap onto the next comment line.
      heading: (m[2] as string).replace(/\s*\n\s*(?:\/\/|\*)?\s*/g, ' '),
      id: m[3],
    })),
  );

  it('the code cites them (a check over no citations would prove nothing)', () => {
    assert.ok(citations.filter((c) => c.doc === 'protocol.md').length >= 50, `${citations.length} citations`);
  });

  it('every cited heading exists', () => {
    const docs = { 'protocol.md': headings('protocol.md'), 'architecture.md': headings('architecture.md') };
    const broken = citations.filter((c) => !docs[c.doc as keyof typeof docs].has(c.heading)).map((c) => `${c.where}: ${c.doc} "${c.heading}"`);
    assert.deepEqual(broken, []);
  });

  it('every cited unconfirmed point has its row', () => {
    const protocol = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');
    const broken = citations.filter((c) => c.id && !protocol.includes(`<a id="${c.id}"></a>`)).map((c) => `${c.where}: ${c.id}`);
    assert.deepEqual(broken, []);
  });

  it('no comment cites notes outside the repository', () => {
    const outside = files.filter((f) => /shared\/(protocol|research|DESIGN)|(^|[^.\w])\.\.\/\.\.\/shared\/|work\/shared/.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
    assert.deepEqual(outside, []);
  });

  it('every source path the notes and the README name exists', () => {
    const missing = ['docs/protocol.md', 'docs/architecture.md', 'README.md'].flatMap((doc) =>
      [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/\b((?:src|test|bench|scripts)\/[\w./-]+\.(?:ts|mjs|json))\b/g)]
        .map((m) => m[1] as string)
        .filter((path) => !existsSync(join(ROOT, path)))
        .map((path) => `${doc}: ${path}`),
    );
    assert.deepEqual(missing, []);
  });
});
