import type { NodeAPI } from 'node-red';
import { ConnectionManager } from '../../connection/connection-manager';
import { EndpointError, resolveEndpoints, type Region } from '../../dashscope/endpoints';
import type { HttpAccess } from '../../dashscope/http-json';
import { CACHE_PARENT, cacheFolder, makePrivate, removeLegacyFolders } from '../../speech/cache/cache-folder';
import { PhraseStore } from '../../speech/cache/phrase-store';
import { registerCatalogEndpoint } from './catalog-endpoint';
import { connectionTuning, parseLimitShare } from './connection-tuning';
import { registerVoiceEndpoints } from './voice-endpoints';
import type { TtsConfigCredentials, TtsConfigDef, TtsConfigNode } from './types';

const REGIONS: readonly Region[] = ['beijing', 'singapore', 'custom'];
const DEFAULT_CACHE_MB = 50;
const MB = 1024 * 1024;

/** The editor stores numbers as text; anything unusable means the default. */
function cacheBytes(value: string | number | undefined): number {
  const mb = typeof value === 'number' ? value : Number.parseFloat(value ?? '');
  return Number.isFinite(mb) && mb > 0 ? Math.round(mb * MB) : DEFAULT_CACHE_MB * MB;
}

export = function registerTtsConfig(RED: NodeAPI): void {
  function TtsConfig(this: TtsConfigNode, def: TtsConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    node.region = REGIONS.includes(def.region) ? def.region : 'beijing';
    node.manager = undefined;
    node.keepWarm = def.keepWarm === true;
    node.configError = undefined;
    node.endpointId = '';
    const limitShare = parseLimitShare(def.limitShare);
    if (limitShare.problem) node.warn(limitShare.problem);
    const settingsUserDir = (RED.settings as unknown as { userDir?: unknown }).userDir;
    const userDir = typeof settingsUserDir === 'string' && settingsUserDir ? settingsUserDir : undefined;
    let store: PhraseStore | undefined;
    node.phraseCache = () => {
      if (store) return store;
      if (!userDir) return { unavailable: 'Node-RED has no user directory (settings.userDir)' };
      // One directory per config node: its size bound is its own, and it survives restarts. Its
      // name is a hash of the id (the id comes from the flow, which may have been imported).
      const folder = cacheFolder(userDir, node.id);
      if (!folder) return { unavailable: `its folder would not be inside the Node-RED user directory (is ${CACHE_PARENT} a link elsewhere?)` };
      void makePrivate(folder);
      store = new PhraseStore({ dir: folder.dir, maxBytes: cacheBytes(def.cacheSize), onWarning: (m) => node.warn(m) });
      return store;
    };
    // Earlier versions kept phrases, text in clear, in folders named by the config ids (this one's,
    // or that of a config since deleted): none is read any more.
    if (userDir) {
      removeLegacyFolders(userDir).then(
        (removed) => {
          if (removed.length > 0) node.log(`removed ${removed.length} phrase cache folder(s) of an earlier version`);
        },
        (err: unknown) => node.debug(`could not remove the earlier phrase cache folders: ${err instanceof Error ? err.message : String(err)}`),
      );
    }

    // The key lives only in credentials (or the environment); it is never copied anywhere else.
    const apiKey = (node.credentials?.apiKey || process.env.DASHSCOPE_API_KEY || '').trim();
    let http: HttpAccess | undefined;
    Object.defineProperty(node, 'http', { get: () => http, enumerable: false, configurable: true });
    const allowInsecure = (RED.settings as unknown as Record<string, unknown>).ttsConfigAllowInsecureEndpoint === true;
    try {
      const endpoints = resolveEndpoints({ region: node.region, endpoint: def.endpoint, allowInsecure });
      node.endpointId = endpoints.httpBase;
      if (!apiKey) {
        node.configError = 'no API key: set it in the tts-config node or in DASHSCOPE_API_KEY';
      } else {
        node.manager = new ConnectionManager({
          ...connectionTuning(RED.settings as unknown as Record<string, unknown>),
          endpoints,
          credentials: { apiKey, workspace: (def.workspace || '').trim() || undefined },
          keepWarm: def.keepWarm === true,
          // Two config nodes with the same key share the account's limits (docs/protocol.md "Rate limits").
          limitShare: limitShare.share,
        });
        // The voice nodes' REST calls go to the same endpoints with the same identity.
        http = Object.freeze({
          endpoints: Object.freeze({ httpBase: endpoints.httpBase, customization: endpoints.customization }),
          credentials: Object.freeze({ apiKey, workspace: (def.workspace || '').trim() || undefined }),
        });
      }
    } catch (err) {
      node.configError = err instanceof EndpointError ? err.message : 'invalid endpoint settings';
    }
    if (node.configError) node.warn(node.configError);

    node.register = (user, options) => {
      node.manager?.register(user, options);
    };
    node.deregister = (user, removed) => {
      node.manager?.deregister(user, removed);
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      const manager = node.manager;
      node.manager = undefined;
      http = undefined;
      if (!manager) {
        done();
        return;
      }
      manager.close().then(done, done);
    });
  }

  RED.nodes.registerType<TtsConfigNode, TtsConfigDef, { ttsConfigAllowInsecureEndpoint: boolean }, TtsConfigCredentials>('tts-config', TtsConfig, {
    credentials: { apiKey: { type: 'password' } },
    // Exported to the editor, so the dialog does not mark a plain http:// base URL this Node-RED is allowed to use.
    settings: { ttsConfigAllowInsecureEndpoint: { value: false, exportable: true } },
  });
  registerCatalogEndpoint(RED);
  registerVoiceEndpoints(RED);
};
