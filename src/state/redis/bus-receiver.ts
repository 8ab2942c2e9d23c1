import type { BackendObserver, BusSink } from '../state-backend.js';
import { decodeEnvelope, splitBusMessage } from './bus-envelope.js';
import type { RelayRouting } from './relay-routing.js';

/** The receive side of the bus: envelopes on this instance's channel, handed to the server. */
export class BusReceiver {
  constructor(
    private readonly sink: BusSink,
    private readonly relays: RelayRouting,
    private readonly observer: BackendObserver,
  ) {}

  /** One message on the channel: an envelope, or a batch of them. */
  readonly onMessage = (message: Buffer): void => {
    const envelopes = splitBusMessage(message);
    if (envelopes === null) this.observer.dropped('bus_malformed');
    else for (const raw of envelopes) this.onEnvelope(raw);
  };

  private onEnvelope(raw: Buffer): void {
    const envelope = decodeEnvelope(raw);
    const { sink } = this;
    if (envelope === null) {
      this.observer.dropped('bus_malformed');
      return;
    }
    switch (envelope.kind) {
      case 'deliver': {
        const { relay, frame } = envelope;
        const refuse = () => this.relays.refuse(relay.origin, relay.peerId, 'not_found');
        if (!sink.deliver(relay.peerId, relay.roomId, frame, refuse)) this.relays.undeliverable(relay, frame);
        return;
      }
      case 'refused':
        sink.refused(envelope.origin, envelope.targetPeerId, envelope.reason);
        return;
      case 'presence':
        sink.presence(envelope.roomId, envelope.aboutConnectionId, envelope.frame);
        return;
      case 'control':
        sink.control(envelope.message);
        return;
      case 'probe':
    }
  }
}
