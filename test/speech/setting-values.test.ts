import assert from 'node:assert/strict';
import { InputError } from '../../src/speech/input-error';
import { numberSetting, textField } from '../../src/speech/setting-values';

function fails(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof InputError && err.code === code && message.test(err.message));
}

describe('setting values', () => {
  it('textField: a blank or text value passes; anything else names the field instead of crashing', () => {
    assert.equal(textField('voice', undefined), '');
    assert.equal(textField('voice', null), '');
    assert.equal(textField('voice', ' Cherry '), ' Cherry ');
    fails(() => textField('voice', 5), 'InvalidSetting', /^voice must be text \(got number\)$/);
    fails(() => textField('languageHints', ['en']), 'InvalidSetting', /^languageHints must be text \(got an array\)$/);
    fails(() => textField('format', { a: 1 }), 'InvalidSetting', /^format must be text \(got object\)$/);
  });

  it('numberSetting: the node field wins and is named as such; a message value is named msg.<name> (InvalidOverride)', () => {
    assert.equal(numberSetting('speechRate', 'rate', '1.5', 'fast', 0.5, 2, false), 1.5, 'the node field wins: the message is not looked at');
    assert.equal(numberSetting('speechRate', 'rate', '', 0.8, 0.5, 2, false), 0.8);
    assert.equal(numberSetting('speechRate', 'rate', '', undefined, 0.5, 2, false), undefined);
    fails(() => numberSetting('speechRate', 'rate', 3, undefined, 0.5, 2, false), 'InvalidSetting', /^speechRate must be a number from 0\.5 to 2 \(got 3\)$/);
    fails(() => numberSetting('speechRate', 'rate', '', 'fast', 0.5, 2, false), 'InvalidOverride', /^msg\.rate must be a number from 0\.5 to 2 \(got "fast"\)$/);
    fails(() => numberSetting('volume', 'volume', undefined, 50.5, 0, 100, true), 'InvalidOverride', /^msg\.volume must be a whole number/);
  });
});
