/** The checks made before a customization request: clone samples, design texts, preview audio. */
import assert from 'node:assert/strict';
import { readWav } from '../../src/audio/wav-info';
import type { DashScopeError } from '../../src/dashscope/errors';
import { safeFileName } from '../../src/dashscope/temporary-upload';
import { checkDesignText, guessLanguage } from '../../src/voices/design-text';
import { playablePreview } from '../../src/voices/preview-audio';
import { dataUriLength, inspectSample, sniffSample, toDataUri } from '../../src/voices/sample';
import { wavHeader } from '../simulator/audio';
import { m4aSample, mp3Sample, oggSample, wavSample } from '../support/voice-samples';

function refusal(fn: () => unknown): DashScopeError {
  try {
    fn();
  } catch (err) {
    return err as DashScopeError;
  }
  assert.fail('expected a refusal');
}

describe('voice samples (before upload)', () => {
  it('sniffs WAV, MP3 (ID3 or a bare frame) and M4A from the bytes, and names what else it got', () => {
    assert.deepEqual(sniffSample(wavSample()), { format: 'wav' });
    assert.deepEqual(sniffSample(mp3Sample()), { format: 'mp3' });
    assert.deepEqual(sniffSample(Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 0])), { format: 'mp3' });
    assert.deepEqual(sniffSample(m4aSample()), { format: 'm4a' });
    assert.deepEqual(sniffSample(oggSample()), { other: 'Ogg (Opus or Vorbis)' });
    assert.deepEqual(sniffSample(Buffer.from([0xff, 0xf1, 0x50, 0x80])), { other: 'raw AAC (ADTS)' });
    assert.deepEqual(sniffSample(Buffer.from('hello, world')), { other: 'not a recognisable audio file' });
  });

  it('reads a WAV header, including a streamed one whose sizes are unknown', () => {
    const recorded = readWav(wavSample({ sampleRate: 16000, seconds: 2.5, channels: 2 }));
    assert.ok(typeof recorded !== 'string');
    assert.deepEqual([recorded.sampleRate, recorded.channels, recorded.bitsPerSample, recorded.isPcm, recorded.dataOffset], [16000, 2, 16, true, 44]);
    assert.equal(recorded.durationSeconds, 2.5);
    const streamed = readWav(Buffer.concat([wavHeader(24000), Buffer.alloc(48000)]));
    assert.ok(typeof streamed !== 'string');
    assert.equal(streamed.durationSeconds, 1);
    assert.match(String(readWav(Buffer.from('RIFF\0\0\0\0WAVEdata\0\0\0\0'))), /fmt/);
  });

  it('accepts good samples of each family and format, with the MIME type the service expects', () => {
    assert.equal(inspectSample(wavSample({ sampleRate: 16000, seconds: 12, channels: 2 }), 'cosyvoice').mime, 'audio/wav');
    assert.equal(inspectSample(wavSample({ sampleRate: 24000, seconds: 12 }), 'qwen').wav?.sampleRate, 24000);
    assert.equal(inspectSample(mp3Sample(), 'qwen').mime, 'audio/mpeg');
    const m4a = inspectSample(m4aSample(), 'cosyvoice');
    assert.equal(m4a.mime, 'audio/mp4');
    assert.match(toDataUri(m4a), /^data:audio\/mp4;base64,AAAAGGZ0eXBNNEEg/);
  });

  const refusals: [string, Buffer, 'cosyvoice' | 'qwen', RegExp][] = [
    ['empty', Buffer.alloc(0), 'cosyvoice', /empty/],
    ['wrong format', oggSample(), 'cosyvoice', /Ogg.*WAV \(16-bit\), MP3 or M4A/],
    ['too big for CosyVoice', Buffer.concat([mp3Sample(), Buffer.alloc(10 * 1024 * 1024)]), 'cosyvoice', /10\.0 MB; the limit is 10\.0 MB/],
    ['too big for Qwen once base64-encoded', Buffer.concat([mp3Sample(), Buffer.alloc(8 * 1024 * 1024)]), 'qwen', /once base64-encoded/],
    ['too low a rate for CosyVoice', wavSample({ sampleRate: 8000 }), 'cosyvoice', /8000 Hz.*at least 16000/],
    ['too low a rate for Qwen', wavSample({ sampleRate: 16000 }), 'qwen', /16000 Hz.*at least 24000/],
    ['too long', wavSample({ sampleRate: 16000, seconds: 61 }), 'cosyvoice', /61\.0 s long; the limit is 60 s/],
    ['too short for CosyVoice', wavSample({ sampleRate: 16000, seconds: 4 }), 'cosyvoice', /4\.0 s long; it needs at least 5 s/],
    ['too short for Qwen', wavSample({ seconds: 2 }), 'qwen', /at least 3 s/],
    ['stereo for Qwen', wavSample({ channels: 2 }), 'qwen', /2 channels; Qwen cloning takes mono only/],
    ['three channels for CosyVoice', wavSample({ channels: 3, sampleRate: 16000 }), 'cosyvoice', /3 channels/],
    ['24-bit WAV', wavSample({ bitsPerSample: 24 }), 'cosyvoice', /24-bit/],
    ['float WAV', wavSample({ bitsPerSample: 32, formatTag: 3 }), 'cosyvoice', /floating-point/],
    ['a WAV without samples', wavSample({ seconds: 0 }), 'cosyvoice', /no audio samples/],
    ['a broken WAV', Buffer.from('RIFF\0\0\0\0WAVE'), 'cosyvoice', /cannot be read/],
  ];
  for (const [what, bytes, family, message] of refusals) {
    it(`refuses ${what}, saying so, with code InvalidSample`, () => {
      const err = refusal(() => inspectSample(bytes, family));
      assert.equal(err.code, 'InvalidSample');
      assert.match(err.message, /nothing was sent/);
      assert.match(err.message, message);
    });
  }

  it('counts the Qwen limit on the data URI, exactly at the boundary', () => {
    const limit = 10 * 1024 * 1024;
    let n = Math.floor(((limit - 'data:audio/mpeg;base64,'.length) / 4) * 3);
    while (dataUriLength(n, 'audio/mpeg') >= limit) n -= 1;
    const fits = Buffer.concat([mp3Sample(), Buffer.alloc(n - mp3Sample().length)]);
    assert.equal(inspectSample(fits, 'qwen').format, 'mp3');
    assert.throws(() => inspectSample(Buffer.concat([fits, Buffer.alloc(3)]), 'qwen'), /base64/);
  });

  it('names uploads safely', () => {
    assert.equal(safeFileName('my voice (1)'), 'my_voice__1_');
    assert.equal(safeFileName('...'), 'sample');
    assert.equal(safeFileName('语音'), 'sample', 'a name made only of replaced characters says nothing');
    assert.equal(safeFileName('.hidden'), 'hidden');
  });
});

describe('voice design texts (before the call)', () => {
  it('takes Chinese or English descriptions within the limits and guesses the preview language', () => {
    assert.deepEqual(checkDesignText('cosyvoice', { voicePrompt: ' 沉稳的中年男性播音员 ', previewText: '各位听众朋友，大家好。' }), {
      voicePrompt: '沉稳的中年男性播音员',
      previewText: '各位听众朋友，大家好。',
      language: 'zh',
    });
    assert.equal(checkDesignText('qwen', { voicePrompt: 'A calm announcer.', previewText: 'Dear listeners, hello everyone.' }).language, 'en');
    assert.equal(guessLanguage('こんにちは、皆さん', ['zh', 'en', 'ja']), 'ja');
    assert.equal(guessLanguage('こんにちは', ['zh', 'en']), 'zh');
    assert.equal(checkDesignText('qwen', { voicePrompt: 'A warm voice', previewText: 'Привет всем, как у вас дела?' }).language, 'ru');
  });

  const refusals: [string, 'cosyvoice' | 'qwen', { voicePrompt: string; previewText: string; language?: string }, RegExp][] = [
    ['an empty description', 'qwen', { voicePrompt: '  ', previewText: 'Dear listeners, hello everyone.' }, /description .* is empty/],
    ['a CosyVoice description over 500 characters', 'cosyvoice', { voicePrompt: 'a'.repeat(501), previewText: 'Hello there.' }, /501 characters; the limit is 500/],
    ['a Qwen description over 2048 characters', 'qwen', { voicePrompt: '中'.repeat(2049), previewText: 'Dear listeners, hello everyone.' }, /2049 characters; the limit is 2048/],
    ['a description in Japanese', 'qwen', { voicePrompt: 'やさしい声', previewText: 'Dear listeners, hello everyone.' }, /Chinese or English .*kana/],
    ['a description in Korean', 'cosyvoice', { voicePrompt: '부드러운 목소리', previewText: 'Hello there.' }, /hangul/],
    ['a Qwen preview under 15 characters', 'qwen', { voicePrompt: 'calm', previewText: 'Too short.' }, /10 characters; it needs at least 15/],
    ['a CosyVoice preview over 200 characters', 'cosyvoice', { voicePrompt: 'calm', previewText: 'x'.repeat(201) }, /201 characters; the limit is 200/],
    ['a language CosyVoice design does not take', 'cosyvoice', { voicePrompt: 'calm', previewText: 'Bonjour à tous.', language: 'fr' }, /"fr" is not offered; use one of zh, en/],
    ['a preview that is not in the named language', 'cosyvoice', { voicePrompt: 'calm', previewText: 'Hello everyone.', language: 'zh' }, /language "zh", but it has no Chinese characters/],
  ];
  for (const [what, family, input, message] of refusals) {
    it(`refuses ${what}, with code InvalidDesign`, () => {
      const err = refusal(() => checkDesignText(family, input));
      assert.equal(err.code, 'InvalidDesign');
      assert.match(err.message, message);
    });
  }
});

describe('design preview audio', () => {
  it('unwraps a WAV preview to PCM, reading the rate from its header, without copying', () => {
    const pcm = Buffer.alloc(3200, 7);
    const data = Buffer.concat([wavHeader(16000), pcm]);
    const out = playablePreview({ data, sampleRate: 24000, format: 'wav' });
    assert.deepEqual(out.audio, { format: 'pcm', sampleRate: 16000, channels: 1, bitDepth: 16 });
    assert.ok(out.payload.equals(pcm));
    assert.equal(out.payload.buffer, data.buffer, 'a view into the decoded bytes');
  });

  it('passes PCM through with the announced rate, and mp3 as mp3', () => {
    const pcm = Buffer.alloc(100);
    assert.deepEqual(playablePreview({ data: pcm, sampleRate: 8000, format: 'pcm' }).audio, { format: 'pcm', sampleRate: 8000, channels: 1, bitDepth: 16 });
    assert.deepEqual(playablePreview({ data: mp3Sample(), sampleRate: 24000, format: 'mp3' }).audio, { format: 'mp3', sampleRate: 24000, channels: 1 });
    assert.throws(() => playablePreview({ data: Buffer.from('nope'), sampleRate: 24000, format: 'wav' }), /not a readable WAV/);
  });
});
