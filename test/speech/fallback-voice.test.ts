import assert from 'node:assert/strict';
import { resampleS16, wavHeader } from '../../src/audio/resample';
import { parseWavHeader } from '../../src/audio/wav';
import { DashScopeError, serviceError, authError, networkError, timeoutError } from '../../src/dashscope/errors';
import { InputError } from '../../src/speech/input-error';
import { EspeakVoice } from '../../src/speech/fallback/espeak';
import { fallsBack } from '../../src/speech/fallback/fallback-engine';
import { fallbackLanguage } from '../../src/speech/fallback/language';
import { needing } from '../support/system-deps';

function s16(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeInt16LE(v, i * 2));
  return b;
}
function values(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 2) out.push(b.readInt16LE(i));
  return out;
}

describe('fallback voice building blocks', () => {
  it('resamples s16 PCM by linear interpolation', () => {
    assert.deepEqual(values(resampleS16(s16([0, 100, 200, 300]), 8000, 16000)), [0, 50, 100, 150, 200, 250, 300, 300]);
    assert.deepEqual(values(resampleS16(s16([0, 100, 200, 300, -400, 500]), 16000, 8000)), [0, 200, -400]);
    const sine = s16(Array.from({ length: 22050 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 22050))));
    const out = resampleS16(sine, 22050, 24000);
    assert.equal(out.length, 24000 * 2, 'one second stays one second');
    assert.ok(Math.max(...values(out)) > 9900 && Math.max(...values(out)) <= 10000);
    assert.equal(resampleS16(s16([1, 2, 3]), 24000, 24000).length, 6);
  });

  it('writes a WAV header the package itself can read', () => {
    const h = wavHeader(16000, 3200);
    assert.deepEqual(parseWavHeader(Buffer.concat([h, Buffer.alloc(3200)])), { format: { sampleRate: 16000, channels: 1, bitDepth: 16 }, dataOffset: 44 });
    assert.equal(h.readUInt32LE(40), 3200);
  });

  it('picks the espeak-ng voice from the node language or the text', () => {
    assert.equal(fallbackLanguage('Hello', 'zh'), 'cmn');
    assert.equal(fallbackLanguage('Hallo', 'German'), 'de');
    assert.equal(fallbackLanguage('前门开着', undefined), 'cmn');
    assert.equal(fallbackLanguage('前门开着', 'Auto'), 'cmn');
    assert.equal(fallbackLanguage('ドアが開いています', undefined), 'ja');
    assert.equal(fallbackLanguage('문이 열려 있습니다', undefined), 'ko');
    assert.equal(fallbackLanguage('Дверь открыта', undefined), 'ru');
    assert.equal(fallbackLanguage('The door is open', undefined), 'en');
  });

  it('falls back when the service is unreachable, never for auth or bad-parameter errors', () => {
    assert.equal(fallsBack(networkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'connect')), true);
    assert.equal(fallsBack(networkError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }), 'connect')), true);
    assert.equal(fallsBack(timeoutError('ConnectTimeout', 't')), true);
    assert.equal(fallsBack(serviceError('handshake', '', 'unavailable', { status: 503 })), true);
    assert.equal(fallsBack(serviceError('task', 'Throttling.RateQuota', 'slow down')), true);
    assert.equal(fallsBack(authError(401, undefined)), false);
    assert.equal(fallsBack(serviceError('task', 'InvalidParameter', 'bad voice')), false);
    assert.equal(fallsBack(new InputError('InvalidInput', 'x')), false);
    assert.equal(fallsBack(new DashScopeError({ code: 'InvalidApiKey', message: 'x', origin: 'task', retryable: true, status: 401 })), false, 'a refused key never falls back, even marked retryable');
  });

  it('espeak-ng speaks 16-bit PCM at the asked rate, the text never taken as options', needing('espeak-ng', async () => {
    const voice = new EspeakVoice();
    assert.equal(await voice.probe(), undefined, 'espeak-ng is installed (apt-get install espeak-ng)');
    const pcm = await voice.synthesize('-v de --help', 'en', 8000).pcm;
    assert.ok(pcm.length > 8000 * 2 * 0.3, 'the text is spoken, never taken as options');
  }));

  it('a missing espeak-ng binary is reported', async () => {
    assert.match((await new EspeakVoice('/nonexistent/espeak-ng').probe()) ?? '', /not installed/);
    await assert.rejects(new EspeakVoice('/nonexistent/espeak-ng').synthesize('x', 'en', 8000).pcm);
  });
});
