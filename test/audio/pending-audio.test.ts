import assert from 'node:assert/strict';
import { applyGain } from '../../src/audio/gain';
import { PendingAudio } from '../../src/audio/pending-audio';
import { PlaybackClock } from '../../src/audio/playback-clock';

const MONO16 = { sampleRate: 24000, channels: 1, bitDepth: 16 } as const;
const STEREO16 = { sampleRate: 24000, channels: 2, bitDepth: 16 } as const;

function ramp(bytes: number, from = 0): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (from + i * 7) & 0xff;
  return b;
}

describe('pending audio (batching for device writes)', () => {
  it('a write that one chunk can fill is that chunk itself: no copy', () => {
    const p = new PendingAudio(MONO16, 100);
    const chunk = ramp(4800);
    p.push(chunk);
    const a = p.take(2400) as Buffer;
    const b = p.take(2400) as Buffer;
    assert.equal(a.buffer, chunk.buffer);
    assert.equal(b.buffer, chunk.buffer);
    assert.ok(Buffer.concat([a, b]).equals(chunk));
    assert.equal(p.take(2400), undefined);
  });

  it('gathers small chunks into one write and never splits a frame', () => {
    const p = new PendingAudio(STEREO16, 100);
    const chunks = [ramp(3), ramp(5, 3), ramp(7, 8), ramp(1, 15)]; // 16 bytes, frames of 4
    for (const c of chunks) p.push(c);
    assert.equal(p.writableBytes, 16);
    const whole = Buffer.concat(chunks);
    const first = p.take(10) as Buffer; // rounded down to 8
    assert.equal(first.length, 8);
    p.push(ramp(2, 16)); // 18 bytes left in total: 2 are half a frame and must wait
    assert.equal(p.writableBytes, 8);
    const second = p.take(1000) as Buffer;
    assert.ok(Buffer.concat([first, second]).equals(whole));
    assert.equal(p.bytes, 2);
    assert.equal(p.take(1000), undefined);
  });

  it('applies gain in the same single copy, also across chunk borders that split a sample', () => {
    const samples = Buffer.alloc(200);
    for (let i = 0; i < 100; i++) samples.writeInt16LE((i - 50) * 301, i * 2);
    const p = new PendingAudio(MONO16, 50);
    p.push(samples.subarray(0, 51)); // ends mid-sample
    p.push(samples.subarray(51, 120));
    p.push(samples.subarray(120));
    const out = Buffer.concat([p.take(64) as Buffer, p.take(1000) as Buffer]);
    assert.ok(out.equals(applyGain(samples, 16, 50)));
    const single = new PendingAudio(MONO16, 50);
    single.push(samples);
    const scaled = single.take(1000) as Buffer;
    assert.notEqual(scaled.buffer, samples.buffer, 'the input Buffer is never modified');
    assert.ok(scaled.equals(applyGain(samples, 16, 50)));
  });

  it('requeued batches come first and are not scaled twice', () => {
    const p = new PendingAudio(MONO16, 50);
    const raw = Buffer.alloc(8);
    raw.writeInt16LE(1000, 0);
    raw.writeInt16LE(-1000, 2);
    raw.writeInt16LE(400, 4);
    raw.writeInt16LE(-400, 6);
    p.push(raw);
    const written = p.take(4) as Buffer; // [500, -500]
    assert.deepEqual([written.readInt16LE(0), written.readInt16LE(2)], [500, -500]);
    p.requeue([written]);
    const again = p.take(1000) as Buffer;
    assert.deepEqual([0, 2, 4, 6].map((o) => again.readInt16LE(o)), [500, -500, 200, -200]);
  });

  it('tells how much of the audio pushed as ready (a chime) is still to be handed out, through a requeue', () => {
    const p = new PendingAudio(MONO16, 50);
    const chime = Buffer.alloc(40);
    for (let i = 0; i < 20; i++) chime.writeInt16LE(i * 101 - 999, i * 2);
    p.pushReady(chime);
    p.push(ramp(60));
    assert.equal(p.readyBytes, 40);
    const first = p.take(24) as Buffer;
    assert.equal(p.readyBytes, 16);
    const second = p.take(40) as Buffer; // the chime's last 16 bytes and 24 of the speech
    assert.equal(p.readyBytes, 0);
    assert.ok(Buffer.concat([first, second]).subarray(0, 40).equals(applyGain(chime, 16, 50)), 'the chime is scaled like the speech');
    p.requeue([first, second]);
    assert.equal(p.readyBytes, 40, 'rewound: all of the chime is to be written again');
    assert.ok((p.take(1000) as Buffer).equals(Buffer.concat([first, second, applyGain(ramp(60).subarray(24), 16, 50)])), 'and nothing is scaled twice');
  });
});

describe('playback clock', () => {
  it('each write ends at max(now, previous end) + its duration', () => {
    let now = 1000;
    const clock = new PlaybackClock(() => now);
    assert.deepEqual(clock.advance(100), { startsAt: 1000, endsAt: 1100 });
    now = 1050;
    assert.deepEqual(clock.advance(100), { startsAt: 1100, endsAt: 1200 }, 'queued behind what is still playing');
    assert.equal(clock.ahead(), 150);
    now = 1500;
    assert.equal(clock.ahead(), 0, 'starved');
    assert.deepEqual(clock.advance(40), { startsAt: 1500, endsAt: 1540 }, 'a starved device starts at once');
    clock.reset();
    assert.equal(clock.ahead(), 0);
  });
});
