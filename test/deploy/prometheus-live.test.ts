import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SignalClient } from '../../src/client/signal-client.js';
import { eventually, useRedisCluster } from '../helpers/cluster.js';
import { freshRoom, registeredPeer } from '../helpers/harness.js';
import { PrometheusProcess, requirePrometheus } from '../helpers/prometheus-process.js';
import { requireRedis } from '../helpers/redis-process.js';

/**
 * A real Prometheus scrapes two live instances on one Redis while peers on both relay to each
 * other; then every rule of deploy/monitoring/rules, every panel query of the Grafana dashboard
 * and the HPA's query from deploy/k8s/prometheus-adapter-rules.yaml are evaluated through its
 * HTTP API. A metric renamed in src/server/metrics.ts leaves a name here without series: fail.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RULES = join(ROOT, 'deploy/monitoring/rules/sleap-signal.rules.yml');
const DASHBOARD = join(ROOT, 'deploy/monitoring/grafana/sleap-signal.dashboard.json');
const ADAPTER_RULES = join(ROOT, 'deploy/k8s/prometheus-adapter-rules.yaml');
const JOB = 'sleap-signal';
const NAMESPACE = 'sleap-test';
const PODS = ['signal-a', 'signal-b'] as const;
const ROUNDS = 100;
/** Grafana's $__rate_interval, as Grafana would expand it for a short range. */
const RATE_INTERVAL = '1m';

interface RuleInfo {
  name: string;
  query: string;
  type: 'recording' | 'alerting';
  health: string;
  lastError?: string;
  state?: string;
}

interface Panel {
  title: string;
  targets?: { expr: string; refId: string }[];
}

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label matchers,
 * ranges, offsets, numbers and grouping lists are removed, that are neither functions nor keywords.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![\w:])\d[\w.]*(?:[eE][+-]?\d+)?/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = bare.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** A YAML scalar after `key:`: inline (plain or quoted) or a block scalar (`|`, `>`) below it. */
function yamlValues(text: string, key: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = new RegExp(`^(\\s*)(?:-\\s+)?${key}:\\s*(.*)$`).exec(line);
    if (!m) return;
    const indent = m[1]!.length;
    const inline = m[2]!.trim();
    if (/^[|>][+-]?$/.test(inline)) {
      const block: string[] = [];
      for (const next of lines.slice(i + 1)) {
        if (next.trim() !== '' && next.search(/\S/) <= indent) break;
        block.push(next.trim());
      }
      out.push(block.join(inline.startsWith('>') ? ' ' : '\n').trim());
    } else if (/^'.*'$/.test(inline)) {
      out.push(inline.slice(1, -1).replace(/''/g, "'"));
    } else if (/^".*"$/.test(inline)) {
      out.push(JSON.parse(inline) as string);
    } else {
      out.push(inline);
    }
  });
  return out;
}

/** The HPA's metric query, rendered as prometheus-adapter would for our two pods. */
function adapterQueries(text: string): { seriesQuery: string; query: string }[] {
  const seriesQueries = yamlValues(text, 'seriesQuery');
  const metricsQueries = yamlValues(text, 'metricsQuery');
  if (metricsQueries.length === 0 || metricsQueries.length !== seriesQueries.length) {
    throw new Error(`deploy/k8s/prometheus-adapter-rules.yaml: found ${seriesQueries.length} seriesQuery and ${metricsQueries.length} metricsQuery values`);
  }
  return metricsQueries.map((template, i) => {
    const seriesQuery = seriesQueries[i]!;
    const series = /^[a-zA-Z_:][\w:]*/.exec(seriesQuery)?.[0];
    if (series === undefined) throw new Error(`seriesQuery without a metric name: ${seriesQuery}`);
    const query = template
      .replace(/<<\s*\.Series\s*>>/g, series)
      .replace(/<<\s*\.LabelMatchers\s*>>/g, `namespace="${NAMESPACE}",pod=~"${PODS.join('|')}"`)
      .replace(/<<\s*\.GroupBy\s*>>/g, 'pod');
    if (query.includes('<<')) throw new Error(`metricsQuery uses a template field this test does not render: ${template}`);
    return { seriesQuery, query };
  });
}

function panelQueries(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({ where: `panel "${panel.title}" ${t.refId}`, expr: t.expr.replaceAll('$__rate_interval', RATE_INTERVAL) })),
  );
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(requirePrometheus() && requireRedis())('Prometheus scraping two live instances', () => {
  const cluster = useRedisCluster();

  it('accepts every rule, dashboard and HPA query, and those the traffic feeds return data', async () => {
    const servers = await cluster.servers(2, { allowedOrigins: ['https://app.example.org'] });
    const prometheus = new PrometheusProcess();
    try {
      await prometheus.start({
        job: JOB,
        ruleFiles: [RULES],
        // The labels a Kubernetes scrape gives (deploy/k8s/servicemonitor.yaml), which the HPA query selects on.
        targets: servers.map((s, i) => ({ address: `127.0.0.1:${s.address.port}`, labels: { namespace: NAMESPACE, pod: PODS[i]!, service: 'sleap-signal' } })),
      });

      // Traffic: two rooms with peers on both instances, relays of four types across instances,
      // discovery, metadata updates, relays to nobody (PEER_NOT_FOUND) and a refused origin.
      const [s1, s2] = servers as [(typeof servers)[0], (typeof servers)[0]];
      const r1 = freshRoom('prom');
      const r2 = freshRoom('prom');
      const a1 = await registeredPeer(s1, { room_id: r1, peer_id: 'a1' });
      const b1 = await registeredPeer(s2, { room_id: r1, peer_id: 'b1' });
      const a2 = await registeredPeer(s1, { room_id: r2, peer_id: 'a2' });
      const b2 = await registeredPeer(s2, { room_id: r2, peer_id: 'b2' });
      const c2 = await registeredPeer(s2, { room_id: r2, peer_id: 'c2' });
      const refused = await SignalClient.connect(`${s1.url}/`, { headers: { Origin: 'https://evil.example' } });
      expect((await refused.closed).code).toBe(1008);
      for (let round = 0; round < ROUNDS; round++) {
        a1.client.send({ type: 'peer_message', to_peer_id: 'b1', payload: { round } });
        b1.client.send({ type: 'peer_message', to_peer_id: 'a1', payload: { round } });
        a2.client.send({ type: 'offer', target: 'b2', sdp: `o${round}` });
        b2.client.send({ type: 'answer', target: 'a2', sdp: `a${round}` });
        c2.client.send({ type: 'candidate', target: 'a2', candidate: `c${round}` });
        if (round % 20 === 0) {
          a1.client.send({ type: 'peer_message', to_peer_id: 'nobody', payload: round });
          await c2.client.request({ type: 'discover_peers' }, 'peer_list');
          b2.client.send({ type: 'update_metadata', metadata: { properties: { round } } });
        }
        await wait(40);
      }
      const relayed = ROUNDS * 5;
      const count = (c: SignalClient, type: string) => c.received.filter((m) => m.type === type).length;
      await eventually(
        () => count(a1.client, 'peer_message') + count(b1.client, 'peer_message') + count(b2.client, 'offer') + count(a2.client, 'answer') + count(a2.client, 'candidate'),
        (n) => n === relayed,
        10_000,
      );

      // Both instances scraped, and a scrape taken after the last relay.
      await eventually(
        () => prometheus.query(`sum(messages_sent_total{job="${JOB}"})`),
        (r) => r.ok && Number(r.series[0]?.value[1]) === relayed,
        15_000,
        250,
      );
      // (A scrape can time out on a busy machine: the next one counts.)
      await eventually(
        async () => (await prometheus.api<{ activeTargets: { health: string; lastError: string }[] }>('targets')).activeTargets.map((t) => t.health),
        (health) => health.join() === 'up,up',
        10_000,
        250,
      );

      // Every rule in the file is loaded and has been evaluated without error.
      const ruleCount = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- (?:record|alert):/gm)].length;
      const rules = await eventually(
        async () => (await prometheus.api<{ groups: { rules: (RuleInfo & { lastEvaluation: string })[] }[] }>('rules')).groups.flatMap((g) => g.rules),
        (rs) => rs.length === ruleCount && rs.every((r) => !r.lastEvaluation.startsWith('0001-')),
        10_000,
        250,
      );
      for (const rule of rules) expect.soft({ rule: rule.name, health: rule.health, error: rule.lastError ?? '' }).toEqual({ rule: rule.name, health: 'ok', error: '' });
      // Healthy traffic: nothing may fire (alerts with `for` can at most be pending).
      expect.soft(rules.filter((r) => r.type === 'alerting' && r.state === 'firing').map((r) => r.name)).toEqual([]);

      // What the traffic feeds must return data: recording rules, panels, the HPA query.
      const fed: { where: string; expr: string }[] = [
        ...rules.filter((r) => r.type === 'recording').map((r) => ({ where: `recording rule ${r.name}`, expr: r.query })),
        ...rules.filter((r) => r.type === 'recording').map((r) => ({ where: `recorded series ${r.name}`, expr: r.name })),
        ...panelQueries(),
      ];
      const accepted: { where: string; expr: string }[] = rules.filter((r) => r.type === 'alerting').map((r) => ({ where: `alert ${r.name}`, expr: r.query }));
      if (existsSync(ADAPTER_RULES)) {
        for (const [i, q] of adapterQueries(readFileSync(ADAPTER_RULES, 'utf8')).entries()) {
          fed.push({ where: `prometheus-adapter seriesQuery ${i}`, expr: q.seriesQuery }, { where: `prometheus-adapter metricsQuery ${i}`, expr: q.query });
          const perPod = await prometheus.query(q.query);
          expect.soft(perPod.ok && perPod.series.map((s) => s.metric.pod).sort(), `HPA query per pod: ${q.query}`).toEqual([...PODS]);
        }
      } else {
        console.warn(`\n!!! ${ADAPTER_RULES} does not exist: the HPA metric query was NOT checked !!!\n`);
      }
      for (const { where, expr } of fed) {
        // Retried a little: a recorded series appears one evaluation after the data it reads.
        const result = await eventually(() => prometheus.query(expr), (r) => !r.ok || r.series.length > 0, 5_000, 250).catch(() => null);
        expect.soft(result?.ok ? (result.series.length > 0 ? 'data' : 'no data') : (result?.error ?? 'no data'), `${where}: ${expr}`).toBe('data');
      }
      for (const { where, expr } of accepted) {
        const result = await prometheus.query(expr);
        expect.soft(result.ok ? 'accepted' : result.error, `${where}: ${expr}`).toBe('accepted');
      }

      // Every metric any of them names has series: a metric renamed in the code leaves its old
      // name here with none, even where the expression itself (an alert) returns nothing.
      const names = new Set([...fed, ...accepted].flatMap((q) => metricNames(q.expr)));
      expect(names.size).toBeGreaterThan(15);
      for (const name of [...names].sort()) {
        const result = await prometheus.query(`group({__name__="${name}"})`);
        expect.soft(result.ok && result.series.length > 0, `metric ${name} has no series in Prometheus`).toBe(true);
      }
    } finally {
      await prometheus.stop();
    }
  }, 90_000);
});

describe('metricNames', () => {
  it('finds the selected metrics and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (job, le) (rate(message_latency_seconds_bucket{job="x",type=~"a|b"}[5m]))) > 0.025 or absent(up{job="x"}) unless on (instance) x:y:rate1m offset 15m / ignoring(reason) group_left foo_total',
      ).sort(),
    ).toEqual(['foo_total', 'message_latency_seconds_bucket', 'up', 'x:y:rate1m']);
  });
});

describe('adapterQueries', () => {
  it('renders prometheus-adapter rules, inline or as block scalars, in a ConfigMap or Helm values', () => {
    const configMap = [
      'data:',
      '  config.yaml: |',
      '    rules:',
      "    - seriesQuery: 'websocket_connections_active{namespace!=\"\",pod!=\"\"}'",
      '      resources:',
      '        overrides: { namespace: { resource: namespace }, pod: { resource: pod } }',
      "      metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'",
    ].join('\n');
    expect(adapterQueries(configMap)).toEqual([
      {
        seriesQuery: 'websocket_connections_active{namespace!="",pod!=""}',
        query: `sum(websocket_connections_active{namespace="${NAMESPACE}",pod=~"signal-a|signal-b"}) by (pod)`,
      },
    ]);
    const helmValues = [
      'rules:',
      '  custom:',
      '    - seriesQuery: websocket_connections_active',
      '      metricsQuery: |',
      '        sum by (<< .GroupBy >>) (',
      '          <<.Series>>{<<.LabelMatchers>>})',
      '      name: { as: connections }',
    ].join('\n');
    expect(adapterQueries(helmValues)[0]!.query).toBe(`sum by (pod) (\nwebsocket_connections_active{namespace="${NAMESPACE}",pod=~"signal-a|signal-b"})`);
    expect(() => adapterQueries('rules: []')).toThrow(/0 seriesQuery/);
  });
});
