import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalClient } from '../../src/client/signal-client.js';
import { ROOT, ensureBuilt, freePort, runCli } from '../cli/cli-helpers.js';
import { Podman, requirePodman } from '../helpers/podman.js';

/** The repository address given to the build, which the image's source label must carry. */
const SOURCE = 'https://example.org/sleap-signal.git';

/**
 * The Dockerfile, built and run with podman (no daemon, no registry: the Node base image is a
 * local stand-in made from this machine's node, see Podman.buildNodeStandIn). The containers run
 * the way deploy/k8s runs the pod: non-root, read-only root filesystem, no capabilities.
 */

const run = requirePodman();
const TAG = `localhost/sleap-signal-test:${process.pid}`;
const BASE = `localhost/node-standin-test:${process.pid}`;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** As in deploy/k8s/deployment.yaml's securityContext. */
const LOCKED_DOWN = ['--read-only', '--read-only-tmpfs=false', '--cap-drop=ALL', '--security-opt=no-new-privileges'];

/** `promise`, or a failure naming `what` after `ms` (a signal that never arrives must not hang the suite). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface ImageConfig {
  User: string;
  Entrypoint: string[];
  Cmd: string[];
  Labels: Record<string, string>;
}

describe.skipIf(!run)('container image (podman)', () => {
  let podman: Podman;

  beforeAll(async () => {
    ensureBuilt(); // the smoke client runs from this checkout's dist/
    podman = new Podman();
    let started = performance.now();
    await podman.buildNodeStandIn(BASE);
    const standIn = performance.now() - started;
    started = performance.now();
    // --jobs=2: the build and production-dependency stages run side by side (about 53 s -> 37 s here).
    await podman.run(
      ['build', '--isolation=chroot', '--network=host', '--format', 'docker', '--pull=never', '--layers=false', '--jobs=2', '--build-arg', `NODE_IMAGE=${BASE}`, '--build-arg', `SOURCE=${SOURCE}`, '-t', TAG, '-f', join(ROOT, 'Dockerfile'), ROOT],
      { timeoutMs: 240_000 },
    );
    console.log(`container image: stand-in base built in ${(standIn / 1000).toFixed(1)} s, image in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);

  afterAll(async () => {
    await podman?.destroy();
  }, 120_000);

  /** Starts the image detached with `env` and waits for /health to answer 200. */
  async function startContainer(name: string, env: Record<string, string>): Promise<{ port: number }> {
    const port = await freePort();
    const envArgs = Object.entries({ PORT: String(port), ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    await podman.run(['run', '-d', '--name', name, ...podman.runOptions(), ...LOCKED_DOWN, ...envArgs, TAG]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0);
      if (status === 200) return { port };
      if (Date.now() > deadline) {
        const logs = await podman.run(['logs', name], { check: false });
        throw new Error(`container ${name} not healthy within 30 s\n${logs.stdout}${logs.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('image: labels, numeric non-root user, exec-form entrypoint, HEALTHCHECK with node', async () => {
    const [image] = JSON.parse((await podman.run(['image', 'inspect', TAG])).stdout) as { Config: ImageConfig; Healthcheck?: { Test: string[] } }[];
    const config = image!.Config;
    expect(config.Labels['org.opencontainers.image.version']).toBe(VERSION);
    expect(config.Labels['org.opencontainers.image.source']).toBe(SOURCE);
    expect(config.User).toMatch(/^[1-9]\d*:\d+$/);
    expect(config.Entrypoint).toEqual(['node', 'bin/sleap-signal.js']);
    expect(config.Cmd).toEqual(['serve']);
    expect(image!.Healthcheck?.Test).toEqual(['CMD', 'node', 'deploy/container/healthcheck.mjs']);
  });

  it('holds the build and production dependencies only (no dev dependencies, no sources)', async () => {
    const probe = `const fs = require('fs'); console.log(JSON.stringify(['dist/cli/main.js', 'bin/sleap-signal.js', 'package.json', 'node_modules/ws', 'node_modules/typescript', 'node_modules/vitest', 'src', 'test'].filter((p) => fs.existsSync(p))))`;
    const r = await podman.run(['run', '--rm', ...podman.runOptions(), '--entrypoint', 'node', TAG, '-e', probe]);
    expect(JSON.parse(r.stdout)).toEqual(['dist/cli/main.js', 'bin/sleap-signal.js', 'package.json', 'node_modules/ws']);
  }, 60_000);

  it('serve passes smoke as non-root PID 1, with a read-only root filesystem and no capabilities', async () => {
    const name = `sleap-smoke-${process.pid}`;
    const { port } = await startContainer(name, {});
    const smoke = await runCli(['smoke', '--url', `ws://127.0.0.1:${port}`, '--timeout', '5s'], { timeoutMs: 60_000 });
    expect(smoke.stdout + smoke.stderr).toMatch(/smoke passed/);
    expect(smoke.code).toBe(0);

    const script = `const fs = require('fs'); const status = fs.readFileSync('/proc/1/status', 'utf8'); let write = 'allowed'; try { fs.writeFileSync('/app/x', '') } catch (e) { write = e.code } console.log(JSON.stringify({ uid: /^Uid:\\s+(\\d+)/m.exec(status)[1], cmdline: fs.readFileSync('/proc/1/cmdline', 'utf8').split('\\0').filter(Boolean), write }))`;
    const pid1 = JSON.parse((await podman.run(['exec', name, 'node', '-e', script])).stdout) as { uid: string; cmdline: string[]; write: string };
    expect(pid1.uid).not.toBe('0');
    expect(pid1.cmdline).toEqual(['node', 'bin/sleap-signal.js', 'serve']);
    expect(pid1.write).toBe('EROFS');
    // The image's HEALTHCHECK, and the liveness command of deploy/k8s/deployment.yaml.
    expect((await podman.run(['healthcheck', 'run', name], { check: false })).code).toBe(0);
    expect((await podman.run(['exec', name, 'node', '/app/deploy/container/healthcheck.mjs', '--live'], { check: false })).code).toBe(0);
  }, 120_000);

  it('SIGTERM drains: the connected client gets 1012 and the container exits 0 within the drain window', async () => {
    const name = `sleap-drain-${process.pid}`;
    const drainMs = 3000;
    const { port } = await startContainer(name, { DRAIN_TIMEOUT: `${drainMs}ms` });
    const client = await SignalClient.connect(`ws://127.0.0.1:${port}`);
    await client.request({ type: 'register', peer_id: 'drain-probe', room_id: 'container-test' }, 'registered');
    const started = Date.now();
    await podman.run(['kill', '--signal', 'TERM', name]);
    expect((await within(client.closed, drainMs + 15_000, 'the client to be closed')).code).toBe(1012);
    const exit = await podman.run(['wait', name], { timeoutMs: drainMs + 30_000 });
    const elapsed = Date.now() - started;
    expect(exit.stdout.trim()).toBe('0');
    expect(elapsed).toBeLessThan(drainMs + 10_000);
    const logs = (await podman.run(['logs', name])).stdout;
    expect(logs).toMatch(/"event":"draining".*"windowMs":3000/);
    expect(logs).toMatch(/"event":"stopped"/);
  }, 120_000);
});
