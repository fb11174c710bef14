import type { Node, NodeDef } from 'node-red';
import type { ConnectionManager, ManagerUser } from '../../connection/connection-manager';
import type { Region } from '../../dashscope/endpoints';
import type { HttpAccess } from '../../dashscope/http-json';
import type { PhraseCache } from '../../speech/cache/caching-engine';

export interface TtsConfigDef extends NodeDef {
  region: Region;
  endpoint: string;
  workspace: string;
  keepWarm: boolean;
  /** Phrase cache bound in MB, shared by the synthesis nodes that use this config with their cache on. */
  cacheSize?: string | number;
  /** This Node-RED's share of the account's rate limits, in percent (1–100; empty = 100). */
  limitShare?: string | number;
}

export interface TtsConfigCredentials {
  apiKey?: string;
}

/** What synthesis nodes see of their configuration node. */
export interface TtsConfigNode extends Node<TtsConfigCredentials> {
  /** Undefined when the configuration cannot work; `configError` then says why. */
  manager: ConnectionManager | undefined;
  configError: string | undefined;
  region: Region;
  keepWarm: boolean;
  /**
   * Endpoints and credentials for the REST calls of the voice nodes (undefined when the
   * configuration cannot work). Read-only and not enumerable, so the key never shows up when the
   * node is inspected or serialized.
   */
  readonly http: HttpAccess | undefined;
  /** Which service endpoint the audio comes from: part of every phrase cache key. */
  endpointId: string;
  /** The phrase cache of this config (created on first use), or why there is none (said by the node using it). */
  phraseCache(): PhraseCache | { unavailable: string };
  register(user: ManagerUser, options?: { prewarmCosyVoice?: boolean }): void;
  deregister(user: ManagerUser, removed: boolean): void;
}

