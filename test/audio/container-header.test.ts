// One header per stream when an utterance is answered in several segments (docs/protocol.md
// "Audio containers"): the header at the start of every later segment is dropped.
import assert from 'node:assert/strict';
import { SegmentHeaderStripper } from '../../src/audio/container-header';
import { wavHeader } from '../../src/audio/resample';
import { describeAudio } from '../../src/audio/audio-message';
import type { Message } from '../../src/nodes/shared/message-base';
import { ChunkEmitter } from '../../src/speech/chunk-emitter';
import type { UtteranceSummary } from '../../src/speech/utterance';
import { RecordingOutput } from '../support/recording-output';

const SUMMARY: UtteranceSummary = { text: 'x', model: 'm', voice: 'v', format: 'wav', sampleRate: 24000, bytes: 0 };

const samples = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251));

/** A RIFF/WAVE header with a LIST chunk between fmt and data, as some encoders write. */
function wavWithList(data: Buffer): Buffer {
  const plain = wavHeader(24000, data.length);
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([6, 0, 0, 0]), Buffer.from('INFOab')]);
  const fmtEnd = 12 + 8 + plain.readUInt32LE(16);
  return Buffer.concat([plain.subarray(0, fmtEnd), list, plain.subarray(fmtEnd), data]);
}

function id3(tagBytes: number, footer = false): Buffer {
  const size = [(tagBytes >> 21) & 0x7f, (tagBytes >> 14) & 0x7f, (tagBytes >> 7) & 0x7f, tagBytes & 0x7f];
  return Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, footer ? 0x10 : 0, ...size]), Buffer.alloc(tagBytes, 7), footer ? Buffer.from('3DI\u0004\u0000\u0010\u0000\u0000\u0000\u0000', 'latin1') : Buffer.alloc(0)]);
}

/** Feeds `bytes` in pieces of `size` and joins what comes out, flushing at the end. */
function strip(format: 'wav' | 'mp3', bytes: Buffer, size: number): Buffer {
  const stripper = new SegmentHeaderStripper(format);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(stripper.next(bytes.subarray(i, i + size)));
  out.push(stripper.flush());
  return Buffer.concat(out);
}

describe('container headers between segments', () => {
  const data = samples(1000, 3);

  for (const size of [1, 7, 44, 4096]) {
    it(`wav: drops a RIFF header (and a LIST chunk) fed ${size} bytes at a time`, () => {
      assert.ok(strip('wav', Buffer.concat([wavHeader(24000, data.length), data]), size).equals(data));
      assert.ok(strip('wav', wavWithList(data), size).equals(data));
    });

    it(`mp3: drops an ID3v2 tag (with or without a footer) fed ${size} bytes at a time`, () => {
      const frames = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), data]);
      assert.ok(strip('mp3', Buffer.concat([id3(300), frames]), size).equals(frames));
      assert.ok(strip('mp3', Buffer.concat([id3(5, true), frames]), size).equals(frames));
    });
  }

  it('passes a segment without a header through untouched, without copying once it is known', () => {
    const frames = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), data]);
    assert.ok(strip('mp3', frames, 5).equals(frames));
    assert.ok(strip('wav', data, 5).equals(data));
    const stripper = new SegmentHeaderStripper('wav');
    const first = Buffer.from('not a header at all');
    assert.equal(stripper.next(first), first, 'the same Buffer, not a copy');
    const later = samples(10, 1);
    assert.equal(stripper.next(later), later);
  });

  it('a segment shorter than a header is audio: flushed as it was', () => {
    const stripper = new SegmentHeaderStripper('wav');
    assert.equal(stripper.next(Buffer.from('RI')).length, 0, 'held back until it can be told');
    assert.deepEqual(stripper.flush(), Buffer.from('RI'));
  });

  describe('ChunkEmitter', () => {
    function emitter(format: 'pcm' | 'wav' | 'mp3'): { e: ChunkEmitter; audio: Message[] } {
      const out = new RecordingOutput({ topic: 't' });
      const e = new ChunkEmitter({ events: out }, describeAudio(format, 24000));
      return { e, audio: out.audioMessages };
    }
    const joined = (audio: Message[]): Buffer => Buffer.concat(audio.map((m) => m.payload as Buffer));

    it('wav over three segments: one header at the start, every sample in order, parts numbered without gaps', () => {
      const { e, audio } = emitter('wav');
      const parts = [samples(300, 1), samples(200, 2), samples(100, 3)];
      for (const part of parts) {
        e.beginSegment();
        const bytes = Buffer.concat([wavHeader(24000, part.length), part]);
        e.chunk(bytes.subarray(0, 30));
        e.chunk(bytes.subarray(30));
      }
      e.finish(SUMMARY);
      assert.ok(joined(audio).equals(Buffer.concat([wavHeader(24000, 300), ...parts])));
      assert.deepEqual(audio.map((m) => (m.parts as { index: number }).index), audio.map((_, i) => i));
      assert.equal((audio[audio.length - 1]?.parts as { count?: number }).count, audio.length);
      assert.equal(e.bytes, 44 + 600);
    });

    it('pcm is never touched, and a first segment keeps its header', () => {
      const pcm = emitter('pcm');
      const chunk = samples(100, 4);
      pcm.e.beginSegment();
      pcm.e.chunk(chunk);
      pcm.e.beginSegment();
      pcm.e.chunk(chunk);
      assert.equal(pcm.audio[1]?.payload, chunk, 'the frame itself, uncopied');
      const wav = emitter('wav');
      const first = Buffer.concat([wavHeader(24000, 100), chunk]);
      wav.e.beginSegment();
      wav.e.chunk(first);
      assert.equal(wav.audio[0]?.payload, first);
    });

    it('bytes held back when a segment ends early are emitted, not lost', () => {
      const { e, audio } = emitter('wav');
      e.chunk(Buffer.concat([wavHeader(24000, 4), samples(4, 1)]));
      e.beginSegment();
      e.chunk(Buffer.from('RI'));
      e.fail(new Error('dropped'));
      assert.deepEqual(audio.map((m) => (m.payload as Buffer).toString('latin1')).slice(1, 2), ['RI']);
    });
  });
});
