/** The credentials and identity every request carries. */
export interface Credentials {
  apiKey: string;
  /** Model Studio workspace id, sent as X-DashScope-WorkSpace when set. */
  workspace?: string;
}

declare const __PACKAGE_VERSION__: string | undefined;
const PACKAGE_VERSION = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : 'dev';

export const USER_AGENT =
  `dashscope/1.0; nodejs/${process.version}; platform/${process.platform}; processor/${process.arch}; ` +
  `node-red-contrib-dashscope-tts/${PACKAGE_VERSION}`;

export function requestHeaders(credentials: Credentials): Record<string, string> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${credentials.apiKey}`,
    'user-agent': USER_AGENT,
  };
  if (credentials.workspace) headers['X-DashScope-WorkSpace'] = credentials.workspace;
  return headers;
}
