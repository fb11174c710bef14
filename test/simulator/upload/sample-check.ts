/**
 * What the services do with a sample they "downloaded" from temporary storage: the same audio
 * checks as for any sample (voice-customization.md §2.8, §3.4, §7), with each service's codes —
 * CosyVoice answers audio problems with HTTP 430 (500 for audio its preprocessing cannot take),
 * Qwen with 400.
 */
import { CustomizationError } from '../customization/errors';
import { readWavInfo } from '../customization/wav-info';

const MAX_BYTES = 10 * 1024 * 1024;

type Service = 'cosyvoice' | 'qwen';

function kindOf(bytes: Buffer): 'wav' | 'mp3' | 'm4a' | undefined {
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WAVE') return 'wav';
  if (bytes.toString('latin1', 0, 3) === 'ID3' || ((bytes[0] ?? 0) === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) return 'mp3';
  if (bytes.length >= 8 && bytes.toString('latin1', 4, 8) === 'ftyp') return 'm4a';
  return undefined;
}

function fail(service: Service, code: string, message: string): CustomizationError {
  return new CustomizationError(service === 'cosyvoice' ? 430 : 400, code, message);
}

export function checkStoredSample(bytes: Buffer, service: Service): void {
  const decoder = (): CustomizationError => fail(service, 'Audio.DecoderError', 'Decoder audio file failed.');
  const kind = kindOf(bytes);
  if (!kind) throw decoder();
  if (bytes.length > MAX_BYTES) throw fail(service, 'Audio.FileSizeExceed', 'File too large');
  if (kind !== 'wav') return;
  const wav = readWavInfo(bytes);
  if (!wav) throw decoder();
  if (wav.sampleRate < (service === 'cosyvoice' ? 16000 : 24000)) throw fail(service, 'Audio.AudioRateError', 'File sample rate unsupported.');
  if (wav.durationSeconds > 60) {
    throw service === 'cosyvoice'
      ? new CustomizationError(500, 'InternalError', 'audio preprocess server error')
      : fail(service, 'Audio.DurationLimitError', 'Audio duration exceeds maximum allowed limit.');
  }
  if (service === 'cosyvoice' && wav.durationSeconds < 5) throw fail(service, 'Audio.AudioSilentError', 'Silent file unsupported.');
  if (service === 'qwen' && wav.durationSeconds < 3) throw fail(service, 'Audio.PreprocessError', 'No segments meet minimum duration requirement');
}
