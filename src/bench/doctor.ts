import { readFileSync } from 'node:fs';
import { availableParallelism, platform } from 'node:os';
import { Command, Option } from 'commander';
import Table from 'cli-table3';
import chalk from 'chalk';
import { parseChoice, parseInteger } from '../options/option-parsers.js';
import { PORTS_PER_SOURCE } from './placement.js';

/**
 * `bench doctor`: can this host open the connections a run needs? Open-file limits, the ephemeral
 * port range, accept backlogs, the TIME_WAIT budget, memory; with the exact commands that fix
 * what falls short.
 */

export type Status = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  readonly name: string;
  readonly value: string;
  readonly need: string;
  readonly status: Status;
  readonly note?: string;
  /** Shell commands that fix it. */
  readonly fix?: string[];
}

export interface DoctorInput {
  readonly peers: number;
  readonly targets: number;
  /** Whether the target is on this host over loopback (source addresses can then be spread). */
  readonly loopback: boolean;
  /** Readers, replaceable in tests. */
  readonly read?: (path: string) => string | null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function num(text: string | null): number | null {
  if (text === null) return null;
  const n = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(n) ? n : null;
}

/** Sockets in TIME_WAIT on this host (IPv4 and IPv6), from /proc/net/tcp*. */
export function countTimeWait(read: (path: string) => string | null): number | null {
  let total: number | null = null;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = read(file);
    if (text === null) continue;
    total ??= 0;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '06') total++;
    }
  }
  return total;
}

export function runDoctor(input: DoctorInput): DoctorCheck[] {
  const read = input.read ?? readText;
  const checks: DoctorCheck[] = [];
  const perTarget = Math.ceil(input.peers / Math.max(1, input.targets));
  // The generator holds one descriptor per connection; a spawned server on this host as many again.
  const neededFiles = input.peers + 1024;

  const limits = read('/proc/self/limits');
  const nofile = limits ? /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits) : null;
  if (nofile) {
    const soft = nofile[1] === 'unlimited' ? Infinity : Number(nofile[1]);
    const hard = nofile[2] === 'unlimited' ? Infinity : Number(nofile[2]);
    const wanted = Math.max(65536, 2 ** Math.ceil(Math.log2(neededFiles)));
    const fix =
      hard >= neededFiles
        ? [`ulimit -n ${Math.min(hard, wanted)}    # in the shell that runs the bench (and the server)`]
        : [
            `echo '* soft nofile ${wanted}' | sudo tee -a /etc/security/limits.conf`,
            `echo '* hard nofile ${wanted}' | sudo tee -a /etc/security/limits.conf    # then log in again, and: ulimit -n ${wanted}`,
            `# systemd service: LimitNOFILE=${wanted}   docker: --ulimit nofile=${wanted}:${wanted}`,
          ];
    checks.push({
      name: 'open files (ulimit -n)',
      value: `soft ${nofile[1]}, hard ${nofile[2]}`,
      need: `≥ ${neededFiles} (one per connection + 1024)`,
      status: soft >= neededFiles ? 'ok' : 'fail',
      note: soft >= neededFiles ? undefined : 'connections beyond the limit fail with EMFILE',
      fix: soft >= neededFiles ? undefined : fix,
    });
  }

  const fileMax = num(read('/proc/sys/fs/file-max'));
  if (fileMax !== null) {
    const need = 2 * input.peers + 65536;
    checks.push({
      name: 'system-wide files (fs.file-max)',
      value: String(fileMax),
      need: `≥ ${need} (generator and server on one host)`,
      status: fileMax >= need ? 'ok' : 'fail',
      fix: fileMax >= need ? undefined : [`sudo sysctl -w fs.file-max=${2 ** Math.ceil(Math.log2(need))}`],
    });
  }
  const nrOpen = num(read('/proc/sys/fs/nr_open'));
  if (nrOpen !== null && nrOpen < neededFiles) {
    checks.push({
      name: 'per-process file ceiling (fs.nr_open)',
      value: String(nrOpen),
      need: `≥ ${neededFiles}`,
      status: 'fail',
      fix: [`sudo sysctl -w fs.nr_open=${2 ** Math.ceil(Math.log2(neededFiles))}`],
    });
  }

  const rangeText = read('/proc/sys/net/ipv4/ip_local_port_range');
  const timeWait = countTimeWait(read);
  if (rangeText !== null) {
    const [lo, hi] = rangeText.trim().split(/\s+/).map(Number) as [number, number];
    const ports = hi - lo + 1;
    const sources = input.loopback ? Math.ceil(perTarget / PORTS_PER_SOURCE) : 1;
    const perSource = Math.ceil(perTarget / sources);
    const ok = perSource <= ports * 0.9;
    checks.push({
      name: 'ephemeral ports (ip_local_port_range)',
      value: `${lo}-${hi} (${ports} ports)`,
      need: `≥ ${perSource} per source address and target` + (sources > 1 ? ` (${sources} loopback sources 127.0.0.x, spread automatically)` : ''),
      status: ok ? 'ok' : input.loopback ? 'warn' : 'fail',
      note: ok ? undefined : 'connect fails with EADDRNOTAVAIL when a source address runs out of ports',
      fix: ok ? undefined : ['sudo sysctl -w net.ipv4.ip_local_port_range="1024 65535"', ...(input.loopback ? [] : ['# or spread over local addresses: bench --source-address 10.0.0.2 --source-address 10.0.0.3 ...'])],
    });
    if (timeWait !== null) {
      const free = ports - timeWait;
      const enough = free >= perSource;
      checks.push({
        name: 'TIME_WAIT budget',
        value: `${timeWait} sockets in TIME_WAIT, ${free} ports free`,
        need: `≥ ${perSource} free ports per source (each run leaves its closed connections in TIME_WAIT for 60 s)`,
        status: enough ? 'ok' : 'warn',
        note: enough ? undefined : 'wait a minute between large runs, or let connections reuse TIME_WAIT ports',
        fix: enough ? undefined : ['sleep 60', 'sudo sysctl -w net.ipv4.tcp_tw_reuse=1'],
      });
    }
  }
  const twReuse = num(read('/proc/sys/net/ipv4/tcp_tw_reuse'));
  if (twReuse !== null) {
    const ok = twReuse === 1 || (twReuse === 2 && input.loopback);
    checks.push({
      name: 'reuse of TIME_WAIT ports (tcp_tw_reuse)',
      value: String(twReuse) + (twReuse === 2 ? ' (loopback only)' : ''),
      need: input.loopback ? '1 or 2' : '1 (for back-to-back runs against a remote server)',
      status: ok ? 'ok' : 'warn',
      fix: ok ? undefined : ['sudo sysctl -w net.ipv4.tcp_tw_reuse=1'],
    });
  }
  const maxTw = num(read('/proc/sys/net/ipv4/tcp_max_tw_buckets'));
  if (maxTw !== null && maxTw < input.peers) {
    checks.push({
      name: 'TIME_WAIT table (tcp_max_tw_buckets)',
      value: String(maxTw),
      need: `≥ ${input.peers}`,
      status: 'warn',
      note: 'beyond it the kernel drops TIME_WAIT sockets early (harmless for the bench, logged by the kernel)',
      fix: [`sudo sysctl -w net.ipv4.tcp_max_tw_buckets=${2 ** Math.ceil(Math.log2(input.peers * 2))}`],
    });
  }

  const somaxconn = num(read('/proc/sys/net/core/somaxconn'));
  const synBacklog = num(read('/proc/sys/net/ipv4/tcp_max_syn_backlog'));
  if (somaxconn !== null) {
    const ok = somaxconn >= 1024 && (synBacklog === null || synBacklog >= 1024);
    checks.push({
      name: 'accept backlog (somaxconn, tcp_max_syn_backlog)',
      value: `${somaxconn}, ${synBacklog ?? '?'}`,
      need: '≥ 1024 each; keep --max-in-flight below the server’s listen backlog (Node: 511)',
      status: ok ? 'ok' : 'warn',
      note: ok ? undefined : 'a full backlog drops SYNs: connects stall for 1 s, 3 s, ... and time out',
      fix: ok ? undefined : ['sudo sysctl -w net.core.somaxconn=4096', 'sudo sysctl -w net.ipv4.tcp_max_syn_backlog=8192'],
    });
  }

  const meminfo = read('/proc/meminfo');
  const available = meminfo ? /MemAvailable:\s+(\d+) kB/.exec(meminfo) : null;
  if (available) {
    const haveMb = Number(available[1]) / 1024;
    const needMb = Math.ceil((input.peers * 60) / 1024) + 256;
    checks.push({
      name: 'memory available',
      value: `${Math.round(haveMb)} MiB`,
      need: `≈ ${needMb} MiB (about 60 KiB per connection, generator and server)`,
      status: haveMb >= needMb ? 'ok' : 'warn',
    });
  }
  const cpus = availableParallelism();
  checks.push({
    name: 'CPUs',
    value: String(cpus),
    need: '2+ (bench --threads uses several; a server on the same host competes with it)',
    status: cpus >= 2 ? 'ok' : 'warn',
  });
  return checks;
}

export function renderDoctor(checks: readonly DoctorCheck[], input: DoctorInput): string {
  const mark = (s: Status) => (s === 'ok' ? chalk.green('ok') : s === 'warn' ? chalk.yellow('warn') : chalk.red('FAIL'));
  const table = new Table({ head: ['check', 'this host', 'needed', ''], style: { head: [], border: [] }, wordWrap: true, colWidths: [30, 30, 44, 6] });
  for (const c of checks) table.push([c.name, c.value, c.need + (c.note ? `\n${chalk.dim(c.note)}` : ''), mark(c.status)]);
  const lines = [`bench doctor: ${input.peers} connections to ${input.targets} target(s)${input.loopback ? ' on this host' : ''}`, table.toString()];
  const fixes = checks.filter((c) => c.fix && c.status !== 'ok');
  if (fixes.length > 0) {
    lines.push(chalk.bold('Fixes:'));
    for (const c of fixes) {
      lines.push(`  # ${c.name}`);
      for (const f of c.fix!) lines.push(`  ${f}`);
    }
    const sysctls = fixes.flatMap((c) => c.fix!.filter((f) => f.startsWith('sudo sysctl -w ')).map((f) => f.slice('sudo sysctl -w '.length)));
    if (sysctls.length > 0) {
      lines.push('  # to keep the sysctl settings across reboots:');
      lines.push(`  printf '%s\\n' ${sysctls.map((s) => `'${s.replace(/"/g, '')}'`).join(' ')} | sudo tee /etc/sysctl.d/90-sleap-bench.conf`);
    }
  } else {
    lines.push(chalk.green('all checks passed'));
  }
  return `${lines.join('\n')}\n`;
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check this host for a large run: open files, ports, backlog, TIME_WAIT; prints the exact fixes (exit 1 when a check fails)')
    // Not --peers / --json: those are `bench` options, which commander would match first.
    .addOption(new Option('--connections <n>', 'connections the run will open (its peers)').argParser(parseInteger(1)).default(10_000))
    .addOption(new Option('--targets <n>', 'target instances (URLs) they spread over').argParser(parseInteger(1)).default(1))
    .addOption(new Option('--remote', 'the target is on another host (no 127.0.0.x source spreading)'))
    .addOption(new Option('--format <format>', 'table or json').argParser(parseChoice(['table', 'json'] as const)).default('table'))
    .action((flags: { connections: number; targets: number; remote?: boolean; format: 'table' | 'json' }) => {
      const input: DoctorInput = { peers: flags.connections, targets: flags.targets, loopback: !flags.remote };
      if (platform() !== 'linux') {
        process.stdout.write(
          'bench doctor reads Linux /proc; on this system check by hand: `ulimit -n` (open files), ' +
            '`sysctl kern.ipc.somaxconn` (backlog), `sysctl net.inet.ip.portrange.first net.inet.ip.portrange.last` (ports)\n',
        );
        return;
      }
      const checks = runDoctor(input);
      if (flags.format === 'json') process.stdout.write(`${JSON.stringify({ input: { peers: input.peers, targets: input.targets, loopback: input.loopback }, checks }, null, 2)}\n`);
      else process.stdout.write(renderDoctor(checks, input));
      if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
    });
}
