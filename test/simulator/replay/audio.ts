/**
 * Audio a replay sends in place of the recorded audio, which the transcript holds only as a
 * length, a hash and a container kind: the recorded length, starting with a real header of the
 * recorded container so the client's container handling sees what it saw; silence after it.
 */
import type { Container } from '../../../src/live-check/transcript-format';
import { wavHeader } from '../audio-encoding';

const ID3_TAG = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
const MP3_FRAME_SYNC = Buffer.from([0xff, 0xfb, 0x90, 0x64]);
const OGG_PAGE = Buffer.from('OggS\0\x02', 'latin1');

function header(container: Container, sampleRate: number): Buffer {
  switch (container) {
    case 'riff':
      return wavHeader(sampleRate);
    case 'id3':
      return ID3_TAG;
    case 'mp3':
      return MP3_FRAME_SYNC;
    case 'ogg':
      return OGG_PAGE;
    default:
      return Buffer.alloc(0);
  }
}

export function replayAudio(bytes: number, container: Container, sampleRate: number): Buffer {
  const out = Buffer.alloc(bytes);
  header(container, sampleRate).copy(out, 0, 0, Math.min(bytes, 44));
  return out;
}
