import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConnection } from '../downstream/server-connection.js';

/** A session subscribed to a resource, under the URI it used. */
interface Subscriber {
  exposedUri: string;
  notify(uri: string): void;
}

/**
 * Resource subscriptions over shared downstream connections. The server sees one subscription
 * per URI however many agents subscribed; `notifications/resources/updated` goes only to the
 * sessions that subscribed, under the URI each of them used. A server with subscriptions is
 * kept from its idle stop, and is subscribed again after a restart.
 */
export class Subscriptions {
  /** server → downstream URI → session id → subscriber */
  private readonly byServer = new Map<string, Map<string, Map<string, Subscriber>>>();
  private readonly pins = new Map<string, () => void>();
  /** Downstream subscribes in flight, by server and URI: a session arriving meanwhile waits for the same one. */
  private readonly subscribing = new Map<string, Promise<void>>();

  constructor(private readonly connections: ReadonlyMap<string, ServerConnection>) {}

  async subscribe(session: string, server: string, uri: string, subscriber: Subscriber): Promise<void> {
    if (!this.byServer.get(server)?.get(uri)?.size) await this.subscribeDownstream(server, uri);
    // Read after the wait: another session may have subscribed meanwhile.
    const uris = this.byServer.get(server) ?? new Map<string, Map<string, Subscriber>>();
    const sessions = uris.get(uri) ?? new Map<string, Subscriber>();
    sessions.set(session, subscriber);
    uris.set(uri, sessions);
    this.byServer.set(server, uris);
    if (!this.pins.has(server)) this.pins.set(server, this.connections.get(server)!.pin());
  }

  async unsubscribe(session: string, server: string, uri: string): Promise<void> {
    const uris = this.byServer.get(server);
    const sessions = uris?.get(uri);
    if (!uris || !sessions?.delete(session)) return;
    if (sessions.size > 0) return;
    uris.delete(uri);
    if (uris.size === 0) {
      this.byServer.delete(server);
      this.pins.get(server)?.();
      this.pins.delete(server);
    }
    await this.send(server, 'resources/unsubscribe', uri).catch(() => undefined); // a stopped server has forgotten it anyway
  }

  /** A closed session's subscriptions end with it. */
  async dropSession(session: string): Promise<void> {
    const ends: Array<Promise<void>> = [];
    for (const [server, uris] of this.byServer) {
      for (const [uri, sessions] of uris) if (sessions.has(session)) ends.push(this.unsubscribe(session, server, uri));
    }
    await Promise.all(ends);
  }

  updated(server: string, uri: string): void {
    for (const subscriber of this.byServer.get(server)?.get(uri)?.values() ?? []) subscriber.notify(subscriber.exposedUri);
  }

  /** After a (re)start the server knows no subscription: send them again. */
  resubscribe(server: string): void {
    for (const uri of this.byServer.get(server)?.keys() ?? []) void this.send(server, 'resources/subscribe', uri).catch(() => undefined);
  }

  private subscribeDownstream(server: string, uri: string): Promise<void> {
    const key = `${server}\u0000${uri}`;
    let sending = this.subscribing.get(key);
    if (!sending) {
      sending = this.send(server, 'resources/subscribe', uri).finally(() => this.subscribing.delete(key));
      this.subscribing.set(key, sending);
    }
    return sending;
  }

  private async send(server: string, method: 'resources/subscribe' | 'resources/unsubscribe', uri: string): Promise<void> {
    await this.connections.get(server)!.request({ method, params: { uri } }, EmptyResultSchema, undefined);
  }
}
