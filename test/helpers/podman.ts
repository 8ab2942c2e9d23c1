import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/** Whether a podman binary is on PATH. */
export const PODMAN_AVAILABLE = spawnSync('podman', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Container suites are skipped loudly where podman is missing, except in CI where a missing
 * podman is a failure.
 */
export function requirePodman(): boolean {
  if (PODMAN_AVAILABLE) return true;
  if (process.env.CI) throw new Error('podman is not installed, and CI is set: the container suite must run (apt-get install podman runc)');
  console.warn('\n!!! podman not found: SKIPPING the container image suite (install podman and runc to run it) !!!\n');
  return false;
}

export interface PodmanResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Podman (rootful, daemonless) on a storage root of its own under a temp dir, so that the images
 * and containers a test makes never mix with anyone else's and go away with destroy().
 */
export class Podman {
  private readonly dir = mkdtempSync(join(tmpdir(), 'sleap-podman-'));
  private readonly global = ['--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'run'), '--tmpdir', join(this.dir, 'tmp')];

  /** Runs `podman ...args` (asynchronously: the test's own sockets keep working meanwhile). */
  run(args: readonly string[], options: { timeoutMs?: number; check?: boolean } = {}): Promise<PodmanResult> {
    const child = spawn('podman', [...this.global, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        if (options.check !== false && code !== 0) {
          reject(new Error(`podman ${args.join(' ')} exited ${code}\nstdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}`));
        } else {
          resolve({ code, stdout, stderr });
        }
      });
    });
  }

  /**
   * Options for `podman run` on this machine: runc with cgroupfs and the host network (no
   * daemon, no CNI); ulimits within this process's hard limits, since podman's defaults
   * (nofile 1048576) are above them and runc cannot raise them without CAP_SYS_RESOURCE.
   */
  runOptions(): string[] {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const hard = (name: string) => Number(new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1]) || 4096;
    const nofile = Math.min(hard('Max open files'), 65_536);
    const nproc = Math.min(hard('Max processes'), 4096);
    return ['--runtime', 'runc', '--cgroup-manager=cgroupfs', '--network=host', '--pull=never', '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
  }

  /**
   * Builds a stand-in for a node:20-bookworm-slim image from this machine's own node (base images
   * cannot be pulled here): FROM scratch plus node, the libraries it links, npm, a /bin/sh and
   * /usr/bin/env (npm's scripts and shebang need them), and the system CA bundle so that npm inside
   * the build trusts the registry's certificate. node is at /usr/local/bin, as in the real image.
   */
  async buildNodeStandIn(tag: string): Promise<void> {
    const context = join(this.dir, 'node-standin');
    const rootfs = join(context, 'rootfs');
    const put = (from: string, to: string) => {
      mkdirSync(dirname(join(rootfs, to)), { recursive: true });
      copyFileSync(realpathSync(from), join(rootfs, to));
      chmodSync(join(rootfs, to), 0o755);
    };
    const node = realpathSync(process.execPath);
    const sh = realpathSync('/bin/sh');
    const env = realpathSync('/usr/bin/env');
    put(node, 'usr/local/bin/node');
    put(sh, 'bin/sh');
    put(env, 'usr/bin/env');
    for (const lib of sharedLibraries([node, sh, env])) put(lib, lib);
    const npm = npmDirectory();
    cpSync(npm, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, verbatimSymlinks: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
    const ca = '/etc/ssl/certs/ca-certificates.crt';
    if (!existsSync(ca)) throw new Error(`${ca} is missing: npm inside the build could not check the registry's certificate`);
    put(ca, ca.slice(1));
    chmodSync(join(rootfs, ca.slice(1)), 0o644);
    mkdirSync(join(rootfs, 'etc'), { recursive: true });
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\n');
    for (const d of ['root', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    writeFileSync(
      join(context, 'Containerfile'),
      [
        'FROM scratch',
        'COPY rootfs/ /',
        `ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_EXTRA_CA_CERTS=${ca} NPM_CONFIG_UPDATE_NOTIFIER=false`,
        'CMD ["node"]',
        '',
      ].join('\n'),
    );
    await this.run(['build', '--isolation=chroot', '--network=host', '-f', join(context, 'Containerfile'), '-t', tag, context], { timeoutMs: 120_000 });
    rmSync(context, { recursive: true, force: true });
  }

  /** Removes every container and image of this storage root, then the root itself. */
  async destroy(): Promise<void> {
    try {
      await this.run(['rm', '--all', '--force', '--time', '0'], { check: false, timeoutMs: 60_000 });
      await this.run(['rmi', '--all', '--force'], { check: false, timeoutMs: 60_000 });
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Absolute paths of the shared libraries and loader the binaries need (from ldd). */
function sharedLibraries(binaries: readonly string[]): string[] {
  const libs = new Set<string>();
  for (const binary of binaries) {
    const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' });
    if (ldd.status !== 0) throw new Error(`ldd ${binary} failed: ${ldd.stderr}`);
    for (const m of ldd.stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) libs.add(m[1]!);
  }
  return [...libs];
}

/** The npm package directory behind the `npm` on PATH (…/node_modules/npm). */
function npmDirectory(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (existsSync(candidate)) return dirname(dirname(realpathSync(candidate)));
  }
  throw new Error('npm not found on PATH');
}
