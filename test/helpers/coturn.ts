import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

const TURNSERVER = ['turnserver', '/usr/bin/turnserver'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) ?? null;

/**
 * TURN suites are skipped loudly where coturn is missing, except in CI where a missing coturn is
 * a failure (as requireRedis does for Redis).
 */
export function requireCoturn(): boolean {
  if (TURNSERVER !== null) return true;
  if (process.env.CI) throw new Error('turnserver (coturn) is not installed, and CI is set: the TURN suite must run (apt-get install coturn)');
  console.warn('\n!!! turnserver not found: SKIPPING the TURN test suite (apt-get install coturn) !!!\n');
  return false;
}

/**
 * A real coturn on a free port of 127.0.0.1 checking TURN REST credentials against `secret`
 * (--use-auth-secret), relaying on 127.0.0.1 (loopback peers allowed: coturn refuses them by default).
 */
export class CoturnProcess {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'sleap-coturn-'));
  port = 0;
  /** Everything coturn printed (its log goes to stdout). */
  log = '';

  constructor(
    readonly secret: string,
    readonly realm = 'sleap.test',
  ) {}

  get url(): string {
    return `turn:127.0.0.1:${this.port}?transport=udp`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    // A relay port range of its own, away from the ephemeral ports Node hands out.
    const minPort = 20_000 + Math.floor(Math.random() * 400) * 100;
    const child = spawn(
      TURNSERVER!,
      [
        '-n', // no configuration file
        '--use-auth-secret',
        `--static-auth-secret=${this.secret}`,
        `--realm=${this.realm}`,
        '--listening-ip=127.0.0.1',
        '--relay-ip=127.0.0.1',
        `--listening-port=${this.port}`,
        `--min-port=${minPort}`,
        `--max-port=${minPort + 99}`,
        '--allow-loopback-peers',
        '--no-cli',
        '--no-tls',
        '--no-dtls',
        '--no-tcp-relay',
        '--fingerprint',
        '--log-file=stdout',
        `--pidfile=${join(this.dir, 'turnserver.pid')}`,
        `--userdb=${join(this.dir, 'turndb')}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}):\n${this.log}`);
      if (await stunAnswers(this.port)) return this;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new Error(`turnserver did not answer STUN on ${this.port}:\n${this.log}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether a STUN Binding request to 127.0.0.1:port gets a success response within 300 ms. */
function stunAnswers(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  const transaction = randomBytes(12);
  // Binding request: type 0x0001, length 0, magic cookie, transaction id.
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), transaction]);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 300);
    socket.on('error', () => done(false));
    socket.on('message', (m) => done(m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(transaction)));
    socket.send(request, port, '127.0.0.1');
  });
}
