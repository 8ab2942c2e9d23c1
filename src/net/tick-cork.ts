import type { Socket } from 'node:net';

/**
 * Holds a socket's writes until the end of the current tick, so that every frame sent to it
 * within the tick leaves in one `writev`. A socket write is the largest single cost of a relay,
 * and frames for one socket often come in bursts (several in one read, a peer's ICE candidates).
 */
export class TickCork {
  private held = false;
  private readonly release = (): void => {
    this.held = false;
    this.socket.uncork();
  };

  constructor(private readonly socket: Pick<Socket, 'cork' | 'uncork'>) {}

  /** Call before each write; the first of a tick corks the socket and schedules the uncork. */
  hold(): void {
    if (this.held) return;
    this.held = true;
    this.socket.cork();
    process.nextTick(this.release);
  }
}
