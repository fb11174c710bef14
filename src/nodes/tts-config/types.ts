import type { Node, NodeDef } from 'node-red';
import type { ConnectionManager, ManagerUser } from '../../connection/connection-manager';
import type { Region } from '../../dashscope/endpoints';

export interface TtsConfigDef extends NodeDef {
  region: Region;
  endpoint: string;
  workspace: string;
  keepWarm: boolean;
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
  register(user: ManagerUser, options?: { prewarmCosyVoice?: boolean }): void;
  deregister(user: ManagerUser, removed: boolean): void;
}

