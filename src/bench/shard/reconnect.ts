import { backoffDelay, FINAL_CLOSE_CODES, FINAL_REGISTER_ERRORS } from '../../client/backoff.js';
import { nowUs, sleep, sleepUntil } from '../clock.js';
import type { ShardContext, TrafficWindow, WindowPart } from './context.js';
import { chooseWatchers, listedTwice, StormWatch } from './list-watch.js';
import type { Entry } from './peers.js';
import type { Ramp } from './ramp.js';
import { pickInstance } from './reconnect-target.js';
import type { Storm } from './storm-ledger.js';

/**
 * Peers coming back after their connection closed, as the real clients do: after a backoff with
 * jitter, to another instance, with the same peer id, room, role and metadata and the session
 * token of their last registration. A storm opens at its fault's time: the peers then on the
 * faulted instance are the ones it may displace (a share of them stays away on purpose), and
 * watchers start discovering in the rooms it hit.
 */
export class Reconnect implements WindowPart {
  /** Peers (global indices) in a reconnect loop: a close meanwhile is the loop's to handle. */
  private readonly returning = new Set<number>();
  private readonly loops = new Set<Promise<void>>();
  private watch: StormWatch | null = null;
  private endUs = Infinity;
  private stopped = false;

  constructor(
    private readonly ctx: ShardContext,
    private readonly ramp: Ramp,
  ) {}

  async run(window: TrafficWindow): Promise<void> {
    this.endUs = window.endUs;
    for (const storm of this.ctx.storms.storms) {
      await sleepUntil(storm.startUs);
      if (this.stopped) break;
      if (!storm.opened) this.open(storm);
    }
    if (this.ctx.storms.storms.length === 0 && !this.ctx.scenario.reconnect.enabled) return;
    await sleepUntil(window.endUs);
    this.watch?.stop();
    this.watch = null;
    await Promise.all(this.loops);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    this.watch = null;
  }

  /** A peer's connection closed without the bench closing it. */
  lost(entry: Entry, code: number): void {
    const now = nowUs();
    const index = entry.plan.index;
    if (this.returning.has(index) || now < this.ctx.window.startUs || now >= this.endUs || this.stopped) return;
    const storm = this.ctx.storms.of(entry.instance, now);
    let displacedBy: Storm | null = null;
    if (storm) {
      if (!storm.opened) this.open(storm);
      if (storm.onInstance.has(index)) {
        storm.displaced++;
        if (storm.abandon.has(index)) {
          storm.abandoned++;
          return;
        }
        displacedBy = storm;
      }
    }
    if (!this.ctx.scenario.reconnect.enabled || FINAL_CLOSE_CODES.has(code)) return;
    this.returning.add(index);
    const loop = this.comeBack(entry, displacedBy, now).finally(() => {
      this.returning.delete(index);
      this.loops.delete(loop);
    });
    this.loops.add(loop);
  }

  /** A watcher's discover reply. */
  listed(entry: Entry, peerIds: readonly string[], atUs: number): void {
    this.watch?.listed(entry, peerIds, atUs);
  }

  /** Attempts, each after its backoff, until the peer is registered again, a refusal is final, or the traffic ends. */
  private async comeBack(entry: Entry, storm: Storm | null, lostUs: number): Promise<void> {
    const { scenario: s, random, init, storms } = this.ctx;
    let lastTried = entry.instance;
    for (let attempt = 0; ; attempt++) {
      const delayMs = backoffDelay(s.reconnect.backoff, attempt, () => random.next());
      if (nowUs() + delayMs * 1000 >= this.endUs) return;
      await sleep(delayMs);
      if (this.stopped) return;
      entry.instance = pickInstance(init.urls.length, storms.gone(nowUs()), lastTried, random);
      lastTried = entry.instance;
      if (storm) storm.attempts++;
      const r = await this.ramp.join(entry, false, { sessionToken: entry.peer.sessionToken, readList: storm !== null });
      if (r.ok) {
        if (storm) {
          storm.comeBack(nowUs(), lostUs, r);
          storm.listedTwice += listedTwice(r.peerList ?? [], entry.plan.peerId);
        }
        return;
      }
      storm?.failed(r.step, r.cls);
      if (r.cls.startsWith('protocol.') && FINAL_REGISTER_ERRORS.has(r.cls.slice('protocol.'.length))) return;
    }
  }

  /** The peers now on the faulted instance are the storm's; a share of them will stay away; watchers start. */
  private open(storm: Storm): void {
    const { peers, random, scenario: s, init } = this.ctx;
    storm.opened = true;
    const hit = peers.entries.filter((e) => e.instance === storm.fault.instance);
    for (const e of hit) {
      storm.onInstance.add(e.plan.index);
      if (random.next() < s.reconnect.abandon) storm.abandon.add(e.plan.index);
    }
    this.watch?.stop();
    const most = Math.ceil(s.reconnect.watchRooms / init.shards);
    const watchers = chooseWatchers(hit, storm.abandon, peers.byRoom, storm.fault.instance, most);
    this.watch = new StormWatch(
      storm,
      watchers,
      hit.filter((e) => storm.abandon.has(e.plan.index)),
    );
    if (watchers.size > 0) this.watch.start(s.reconnect.watchIntervalMs);
  }
}
