import { EndpointError, resolveEndpoints } from '../../dashscope/endpoints';

/**
 * Why the runtime would refuse this custom base URL ('' when it takes it): resolveEndpoints, the
 * rule a tts-config applies at deploy, asked as the dialog asks it. The dialog runs it as it is
 * (editor-rules.ts), so it marks exactly what the runtime refuses: a plain http:// base URL to
 * another machine, for one.
 */
export function customEndpointProblem(endpoint: string, allowInsecure: boolean): string {
  try {
    resolveEndpoints({ region: 'custom', endpoint, allowInsecure });
    return '';
  } catch (err) {
    if (err instanceof EndpointError) return err.message;
    throw err;
  }
}
