/** Cuts a sentence's PCM into wire frames of `chunkMs` (the last one shorter). */

export const DEFAULT_CHUNK_MS = 100;

export function frameBytes(sampleRate: number, chunkMs: number): number {
  return Math.max(1, Math.round((chunkMs / 1000) * sampleRate)) * 2;
}

export function pcmChunks(pcm: Buffer, sampleRate: number, chunkMs: number): Buffer[] {
  const size = frameBytes(sampleRate, chunkMs);
  const out: Buffer[] = [];
  for (let i = 0; i < pcm.length; i += size) out.push(pcm.subarray(i, Math.min(pcm.length, i + size)));
  return out;
}

export function pcmDurationMs(pcmBytes: number, sampleRate: number): number {
  return (pcmBytes / 2 / sampleRate) * 1000;
}
