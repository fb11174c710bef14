/**
 * Audio samples given by URL are "downloaded" only in simulation: the URL shape is checked, and a
 * configurable table decides failures (voice-customization.md §7, §9; file-upload.md §3.4 for oss://).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CloneUrlFailure } from '../options';
import type { OssResolver } from '../upload/resolve';
import { checkStoredSample } from '../upload/sample-check';
import { CustomizationError } from './errors';

/** CosyVoice clone failures use HTTP 430 for audio problems and 500 for download/ASR problems. */
const COSYVOICE_FAILURES: Record<Exclude<CloneUrlFailure, 'undeployed'>, CustomizationError> = {
  decoder: new CustomizationError(430, 'Audio.DecoderError', 'Decoder audio file failed.'),
  'file-too-large': new CustomizationError(430, 'Audio.FileSizeExceed', 'File too large'),
  'sample-rate': new CustomizationError(430, 'Audio.AudioRateError', 'File sample rate unsupported'),
  silent: new CustomizationError(430, 'Audio.AudioSilentError', 'Silent file unsupported.'),
  internal: new CustomizationError(500, 'InternalError', 'audio preprocess server error'),
};

const QWEN_FAILURES: Record<Exclude<CloneUrlFailure, 'undeployed'>, CustomizationError> = {
  decoder: new CustomizationError(400, 'Audio.DecoderError', 'Decoder audio file failed.'),
  'file-too-large': new CustomizationError(400, 'Audio.FileSizeExceed', 'File too large'),
  'sample-rate': new CustomizationError(400, 'Audio.AudioRateError', 'File sample rate unsupported.'),
  silent: new CustomizationError(400, 'Audio.PreprocessError', 'No segments meet minimum duration requirement'),
  internal: new CustomizationError(500, 'InternalError', 'An internal error has occured, please try again later or contact service support.'),
};

/** Returns 'undeployed' when the sample is accepted but the voice will be rejected later. */
export function checkSampleUrl(
  url: string,
  headers: IncomingHttpHeaders,
  failures: Record<string, CloneUrlFailure>,
  service: 'cosyvoice' | 'qwen',
  resolveOss: OssResolver,
): 'ok' | 'undeployed' {
  if (url.startsWith('oss://')) {
    if (String(headers['x-dashscope-ossresourceresolve'] ?? '').toLowerCase() !== 'enable') {
      throw new CustomizationError(
        400,
        'invalid_parameter_error',
        'InternalError.Algo.InvalidParameter: The provided URL does not appear to be valid. Ensure it is correctly formatted.',
      );
    }
    // The service reads the uploaded bytes like any downloaded sample (file-upload.md §7).
    checkStoredSample(resolveOss(url).bytes, service);
  } else if (!/^https?:\/\/[^\s/]+/i.test(url)) {
    throw service === 'cosyvoice' ? COSYVOICE_FAILURES.internal : new CustomizationError(400, 'InvalidParameter', `The audio URL '${url}' is not valid.`);
  }
  const failure = failures[url];
  if (!failure) return 'ok';
  if (failure === 'undeployed') return 'undeployed';
  throw (service === 'cosyvoice' ? COSYVOICE_FAILURES : QWEN_FAILURES)[failure];
}
