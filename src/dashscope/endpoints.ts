/**
 * Where each service lives. A region picks the public hosts; `custom` takes one base URL
 * (`https://host` or `http://127.0.0.1:PORT`) from which the WebSocket and HTTP URLs are derived.
 */
export type Region = 'beijing' | 'singapore' | 'custom';

export interface Endpoints {
  /** CosyVoice duplex task endpoint (model travels in run-task, never in the URL). */
  cosyvoiceWs: string;
  /** Qwen-TTS-Realtime endpoint without the query; use qwenRealtimeUrl() to add the model. */
  qwenRealtimeWs: string;
  httpBase: string;
  customization: string;
}

const PUBLIC_HOSTS: Record<Exclude<Region, 'custom'>, string> = {
  beijing: 'dashscope.aliyuncs.com',
  singapore: 'dashscope-intl.aliyuncs.com',
};

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]|::1)$/i;

/** A host name of this machine (a URL's `hostname`: IPv6 in brackets, or bare), where plain http may go. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

export interface EndpointSettings {
  region: Region;
  /** Base URL, used only when region is `custom`. */
  endpoint?: string;
  /** Permit a plain-text (http/ws) custom endpoint that is not on this machine. */
  allowInsecure?: boolean;
}

export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointError';
  }
}

function fromHttpBase(origin: string): Endpoints {
  const wsOrigin = origin.replace(/^http/, 'ws');
  const httpBase = `${origin}/api/v1`;
  return {
    cosyvoiceWs: `${wsOrigin}/api-ws/v1/inference`,
    qwenRealtimeWs: `${wsOrigin}/api-ws/v1/realtime`,
    httpBase,
    customization: `${httpBase}/services/audio/tts/customization`,
  };
}

export function resolveEndpoints(settings: EndpointSettings): Endpoints {
  if (settings.region !== 'custom') {
    const host = PUBLIC_HOSTS[settings.region];
    if (!host) throw new EndpointError(`unknown region "${String(settings.region)}"`);
    return fromHttpBase(`https://${host}`);
  }
  const raw = (settings.endpoint ?? '').trim();
  if (!raw) throw new EndpointError('a custom region needs a base URL, e.g. https://dashscope.example.com');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EndpointError(`"${raw}" is not a valid base URL`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const plain = url.protocol === 'http:' || url.protocol === 'ws:';
  if (!secure && !plain) throw new EndpointError(`base URL must start with https:// or http:// (got ${url.protocol})`);
  if (plain && !isLoopbackHost(url.hostname) && !settings.allowInsecure) {
    throw new EndpointError(
      `refusing to send the API key in clear text to ${url.hostname}: use https://, or a loopback address for a local simulator`,
    );
  }
  const origin = `${secure ? 'https' : 'http'}://${url.host}${url.pathname.replace(/\/+$/, '')}`;
  return fromHttpBase(origin);
}

export function qwenRealtimeUrl(endpoints: Endpoints, model: string): string {
  return `${endpoints.qwenRealtimeWs}?model=${encodeURIComponent(model)}`;
}
