import chalk from 'chalk';
import { checkFaults, checkTargets, scenarioOverrides, threadsOf, type BenchFlags } from './bench-flags.js';
import { FaultInjector } from './faults.js';
import { writeHgrmFiles } from './hgrm.js';
import { writeHtmlReport, writeSvgPlots } from './html-report.js';
import { ProgressLine } from './progress.js';
import { writeJsonReport } from './report-json.js';
import { renderReport } from './report-table.js';
import { runBench } from './runner.js';
import { loadScenario } from './scenario/load.js';
import { ServerCpuProbe } from './server-cpu.js';
import { SpawnedServers } from './spawn.js';
import { unreachableLine } from './unreachable.js';

/**
 * `bench [scenario]`: load the scenario with the flags over it, start servers with --spawn, run
 * with a live progress line, then print the report, write the files asked for, and set the exit
 * code from the verdict (1 when nothing was reached).
 */
export async function runBenchCommand(scenarioArg: string | undefined, flags: BenchFlags): Promise<void> {
  const { overrides, flagNames } = scenarioOverrides(flags);
  const loaded = await loadScenario(scenarioArg, overrides, flagNames);

  if (flags.check) {
    process.stdout.write(`${JSON.stringify(loaded.effective, null, 2)}\n`);
    return;
  }
  const urls = checkTargets(flags);
  checkFaults(flags, loaded.scenario);
  const threads = threadsOf(flags, loaded.scenario);

  const reportPath = flags.report ?? flags.json;
  const say = (text: string) => {
    if (!flags.quiet) process.stderr.write(`${text}\n`);
  };
  let spawned: SpawnedServers | null = null;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (flags.spawn !== undefined) {
      say(chalk.dim(`starting ${flags.spawn} serve instance(s)${flags.redis ? ` sharing ${flags.redis}` : ' (in memory)'} ...`));
      spawned = await SpawnedServers.start({
        instances: flags.spawn,
        redis: flags.redis,
        prefix: flags.prefix,
        scenario: loaded.scenario,
        extraArgs: loaded.scenario.server.serveArgs,
        nodeOptions: flags.spawnNodeOptions,
      });
      for (const i of spawned.instances) say(chalk.dim(`  ${i.url} (accepting ${(i.readyMs / 1000).toFixed(2)} s after launch)`));
    }
    const targets = spawned ? spawned.urls : urls;
    const progress = new ProgressLine(process.stderr, Boolean(process.stderr.isTTY) && !process.env.CI && flags.progress && !flags.quiet);
    say(
      chalk.dim(
        `bench ${loaded.scenario.name}: ${loaded.scenario.peers} peers in ${loaded.scenario.rooms} room(s) → ${targets.length} target(s), ` +
          `${threads} thread(s), warm-up ${loaded.scenario.warmupMs / 1000} s, measure ${loaded.scenario.durationMs / 1000} s`,
      ),
    );
    const report = await runBench({
      loaded,
      urls: targets,
      threads,
      sourceAddresses: flags.sourceAddress ?? 'auto',
      spawned: spawned ? { instances: spawned.instances.length, backend: flags.redis ? 'redis' : 'memory', ready_ms: spawned.instances.map((i) => i.readyMs) } : null,
      faults: spawned && loaded.scenario.faults.length > 0 ? new FaultInjector(loaded.scenario.faults, spawned.instances.map((i) => i.child)) : undefined,
      serverCpu: spawned ? new ServerCpuProbe(spawned.instances.map((i) => i.child.pid ?? -1), flags.redis) : undefined,
      onProgress: (p) => progress.update(p),
      signal: controller.signal,
    });
    progress.done();
    const unreachable = unreachableLine(report);
    if (unreachable !== null) {
      // Nothing was measured: one line, not a report of zeros, and a tool error rather than a verdict.
      process.stderr.write(`sleap-signal: ${unreachable}\n`);
      if (reportPath) await writeJsonReport(reportPath, report);
      process.exitCode = 1;
      return;
    }
    if (!flags.quiet) {
      const text = renderReport(report);
      if (reportPath === '-') process.stderr.write(text);
      else process.stdout.write(text);
    }
    if (reportPath) await writeJsonReport(reportPath, report);
    if (flags.hgrm) await writeHgrmFiles(flags.hgrm, report);
    if (flags.html) await writeHtmlReport(flags.html, report);
    if (flags.svg) await writeSvgPlots(flags.svg, report);
    process.exitCode = report.verdict.exit_code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (spawned) await spawned.stop();
  }
}
