/** Corrupted renditions of an outgoing event, for the malformed-frame fault. */
import type { ServiceName } from './faults';

export type MalformedKind = 'not-json' | 'no-header' | 'truncated';

export function malformedFrame(event: Record<string, unknown>, what: MalformedKind, service: ServiceName): string {
  switch (what) {
    case 'not-json':
      // What a misbehaving proxy in front of the service might send.
      return '<html><body><h1>502 Bad Gateway</h1></body></html>';
    case 'no-header': {
      // CosyVoice events are routed by `header`, Qwen events by `type`; drop the routing part.
      const { [service === 'cosyvoice' ? 'header' : 'type']: _dropped, ...rest } = event;
      return JSON.stringify(rest);
    }
    case 'truncated': {
      const full = JSON.stringify(event);
      return full.slice(0, Math.max(1, Math.floor(full.length / 2)));
    }
  }
}
