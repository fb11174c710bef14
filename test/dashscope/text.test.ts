import assert from 'node:assert/strict';
import { billedLength, splitByBilledLength } from '../../src/dashscope/text';

describe('billing rule (CJK counts 2)', () => {
  it('matches the examples in the protocol README', () => {
    assert.equal(billedLength('你好'), 4);
    assert.equal(billedLength('中A文123'), 8);
    assert.equal(billedLength('中 文。'), 6);
    assert.equal(billedLength('<speak>你好</speak>', true), 4);
    assert.equal(billedLength('床前明月光，'), 11);
  });

  it('counts kana and hangul as 1 and astral ideographs as 2', () => {
    assert.equal(billedLength('かな한'), 3);
    assert.equal(billedLength('𠀀'), 2);
  });
});

describe('splitByBilledLength', () => {
  it('returns short text untouched', () => {
    assert.deepEqual(splitByBilledLength('hello', 20_000), ['hello']);
  });

  it('keeps every piece within the limit and loses nothing', () => {
    const text = 'Sentence one is here. '.repeat(2000) + '中文句子，'.repeat(3000);
    const pieces = splitByBilledLength(text, 20_000);
    assert.ok(pieces.length > 2);
    assert.equal(pieces.join(''), text);
    for (const p of pieces) assert.ok(billedLength(p) <= 20_000, `piece of ${billedLength(p)}`);
  });

  it('cuts after a sentence mark when one is available', () => {
    const pieces = splitByBilledLength('aaaa. bbbb. cccc', 12);
    assert.deepEqual(pieces, ['aaaa. bbbb. ', 'cccc']);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(50);
    const pieces = splitByBilledLength(text, 7);
    assert.equal(pieces.join(''), text);
    for (const p of pieces) assert.ok(!/[\uD800-\uDBFF]$/.test(p), 'piece ends inside a surrogate pair');
  });
});
