import { nowUs, sleep, sleepUntil } from '../clock.js';
import { nextGapUs } from '../schedule.js';
import type { ShardContext, TrafficWindow, WindowPart } from './context.js';
import { countUnanswered } from './inbound.js';
import type { Entry } from './peers.js';
import type { Ramp } from './ramp.js';

/**
 * Churn: peers leave at the scenario's rate (Poisson), each after a grace period in which it is no
 * target, stay away, and come back (reconnect, or register again in leave mode).
 */
export class Churn implements WindowPart {
  private readonly cycles = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly ctx: ShardContext,
    private readonly ramp: Ramp,
  ) {}

  async run(window: TrafficWindow): Promise<void> {
    const { scenario: s, init, random } = this.ctx;
    if (s.churn.rate <= 0 || !this.ctx.peers.anyOnline()) return;
    const rate = s.churn.rate / init.shards;
    let at = window.startUs + nextGapUs('poisson', rate, random);
    while (at < window.endUs && !this.stopped) {
      await sleepUntil(at);
      if (this.stopped || nowUs() >= window.endUs) break;
      const entry = this.ctx.peers.pickOnline(random);
      if (entry) {
        const cycle = this.cycle(entry).finally(() => this.cycles.delete(cycle));
        this.cycles.add(cycle);
      }
      at += nextGapUs('poisson', rate, random);
    }
    await Promise.all(this.cycles);
  }

  stop(): void {
    this.stopped = true;
  }

  /** A peer leaves (after a grace period in which it is no target), stays away, and comes back. */
  private async cycle(entry: Entry): Promise<void> {
    const { scenario: s, rec } = this.ctx;
    const peer = entry.peer;
    peer.away = true;
    rec.counters.churnLeft++;
    await sleep(s.churn.graceMs);
    if (s.churn.mode === 'close') {
      await peer.close();
    } else if (!(await peer.leave(s.requestTimeoutMs))) {
      rec.error('timeout.leave');
    }
    countUnanswered(rec, entry, 'unanswered');
    await sleep(s.churn.downtimeMs);
    let ok: boolean;
    if (s.churn.mode === 'close' || peer.state === 'closed') {
      ok = (await this.ramp.join(entry, false)).ok;
    } else {
      const r = await this.ramp.register(entry, s.requestTimeoutMs);
      if (r.ok) rec.record('register', r.us);
      else if (!r.cls.startsWith('close.')) rec.error(r.cls);
      ok = r.ok;
    }
    peer.away = false;
    if (ok) rec.counters.churnRejoined++;
    else rec.counters.churnFailed++;
  }
}
