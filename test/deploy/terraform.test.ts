import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getExpressionAst, parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { ServerMetrics } from '../../src/server/metrics.js';

/**
 * deploy/aws without terraform: the files are parsed with HashiCorp's HCL parser (hcl2json), and
 * the relations that matter for WebSockets are checked on the parsed configuration, evaluating
 * the expressions involved with the variables' defaults (and the example tfvars for those
 * without one). Resource attributes known only after apply stay symbolic.
 */

const DIR = fileURLToPath(new URL('../../deploy/aws/', import.meta.url));

type Block = Record<string, unknown>;
interface Config {
  variable: Record<string, [Block]>;
  locals: Block;
  resource: Record<string, Record<string, [Block]>>;
  data: Record<string, Record<string, [Block]>>;
}

async function loadConfig(): Promise<Config> {
  const config: Config = { variable: {}, locals: {}, resource: {}, data: {} };
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.tf'))) {
    const json = (await parse(file, readFileSync(join(DIR, file), 'utf8'))) as Record<string, unknown>;
    Object.assign(config.variable, json.variable);
    for (const block of (json.locals as Block[] | undefined) ?? []) Object.assign(config.locals, block);
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, byName] of Object.entries((json[kind] as Config['resource'] | undefined) ?? {})) {
        config[kind][type] = { ...config[kind][type], ...byName };
      }
    }
  }
  return config;
}

/** A value Terraform knows only after apply (an id, an ARN, an endpoint). */
class Unknown {
  constructor(readonly ref: string) {}
  toString(): string {
    return `(known after apply: ${this.ref})`;
  }
}

interface AstNode {
  type: string;
  meta: { value?: string; type?: string; operator?: string; name?: string; fullAccessor?: string };
  children: AstNode[];
}

/** Splits a Terraform template into literal text and `${...}` expressions ($${ is a literal ${). */
function splitTemplate(text: string): ({ literal: string } | { expr: string })[] {
  const parts: ({ literal: string } | { expr: string })[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i) || text.startsWith('%%{', i)) {
      literal += text.slice(i + 1, i + 3);
      i += 3;
    } else if (text.startsWith('%{', i)) {
      throw new Error(`template directives (%{...}) are not evaluated by this test: ${text.slice(i, i + 40)}`);
    } else if (text.startsWith('${', i)) {
      let depth = 0;
      let j = i + 2;
      let quoted = false;
      for (; j < text.length; j++) {
        const c = text[j]!;
        if (quoted) {
          if (c === '\\') j++;
          else if (c === '"') quoted = false;
        } else if (c === '"') quoted = true;
        else if (c === '{') depth++;
        else if (c === '}' && depth-- === 0) break;
      }
      parts.push({ literal }, { expr: text.slice(i + 2, j) });
      literal = '';
      i = j + 1;
    } else {
      literal += text[i++];
    }
  }
  parts.push({ literal });
  return parts.filter((p) => !('literal' in p) || p.literal !== '');
}

/** Evaluates parsed values and expressions: variables, locals, arithmetic, comparisons, a few functions. */
class Evaluator {
  private readonly localCache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly config: Config,
    private readonly vars: Record<string, unknown>,
    /** Set when rendering a template file: its variables are all it can see. */
    private readonly templateVars: Record<string, unknown> | null = null,
  ) {}

  withTemplateVars(templateVars: Record<string, unknown>): Evaluator {
    return new Evaluator(this.config, this.vars, templateVars);
  }

  async value(v: unknown): Promise<unknown> {
    if (Array.isArray(v)) return Promise.all(v.map((x) => this.value(x)));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = await this.value(x);
      return out;
    }
    if (typeof v !== 'string' || !v.includes('${')) return v;
    return this.template(v);
  }

  /** A template: one whole `${expr}` keeps its type; anything else is a string. */
  async template(text: string): Promise<unknown> {
    const parts = splitTemplate(text);
    if (parts.length === 1 && 'expr' in parts[0]!) return this.expr(parts[0].expr);
    const strings = await Promise.all(parts.map(async (p) => ('literal' in p ? p.literal : String(await this.expr(p.expr)))));
    return strings.join('');
  }

  async expr(text: string): Promise<unknown> {
    return this.node((await getExpressionAst('expr.tf', text)) as unknown as AstNode);
  }

  private async node(n: AstNode): Promise<unknown> {
    const kids = () => Promise.all(n.children.map((c) => this.node(c)));
    switch (n.type) {
      case '':
      case 'templateWrap':
        return this.node(n.children[0]!);
      case 'literalValue':
        if (n.meta.type === 'number') return Number(n.meta.value);
        if (n.meta.type === 'bool') return n.meta.value === 'true';
        if (n.meta.type === 'string') return n.meta.value;
        return null;
      case 'template':
        return (await kids()).map(String).join('');
      case 'tuple':
        return kids();
      case 'scopeTraversal':
        return this.lookup(n.meta.fullAccessor!);
      case 'conditional': {
        const [cond, yes, no] = n.children as [AstNode, AstNode, AstNode];
        return (await this.node(cond)) === true ? this.node(yes) : this.node(no);
      }
      case 'unaryOp': {
        const [x] = await kids();
        if (n.meta.operator === 'logicalNot') return !(x as boolean);
        if (n.meta.operator === 'negate') return -(x as number);
        break;
      }
      case 'binaryOp': {
        const [a, b] = await kids();
        if (a instanceof Unknown || b instanceof Unknown) throw new Error(`cannot evaluate ${n.meta.value}: ${String(a instanceof Unknown ? a : b)}`);
        const [x, y] = [a as number, b as number];
        const ops: Record<string, () => unknown> = {
          add: () => x + y,
          subtract: () => x - y,
          multiply: () => x * y,
          divide: () => x / y,
          modulo: () => x % y,
          equal: () => a === b,
          notEqual: () => a !== b,
          lessThan: () => x < y,
          lessThanOrEqual: () => x <= y,
          greaterThan: () => x > y,
          greaterThanOrEqual: () => x >= y,
          logicalAnd: () => a === true && b === true,
          logicalOr: () => a === true || b === true,
        };
        const op = ops[n.meta.operator!];
        if (op) return op();
        break;
      }
      case 'function': {
        const args = await kids();
        const nums = args as number[];
        const fns: Record<string, () => unknown> = {
          floor: () => Math.floor(nums[0]!),
          ceil: () => Math.ceil(nums[0]!),
          max: () => Math.max(...nums),
          min: () => Math.min(...nums),
          join: () => (args[1] as unknown[]).join(args[0] as string),
        };
        const fn = fns[n.meta.name!];
        if (fn) return fn();
        break;
      }
    }
    throw new Error(`the test cannot evaluate ${n.type} ${n.meta.operator ?? n.meta.name ?? ''}: ${n.meta.value}`);
  }

  private async lookup(accessor: string): Promise<unknown> {
    const [root, name, ...rest] = accessor.split('.') as [string, ...string[]];
    if (this.templateVars !== null) {
      if (!(root in this.templateVars) || name !== undefined) throw new Error(`the template uses "${accessor}", which templatefile() is not given`);
      return this.templateVars[root];
    }
    if (root === 'var') {
      if (!(name! in this.vars)) throw new Error(`var.${name} has no value (no default, none in the example tfvars)`);
      return dig(this.vars[name!], rest, accessor);
    }
    if (root === 'local') {
      if (!(name! in this.config.locals)) throw new Error(`local.${name} is not defined`);
      if (!this.localCache.has(name!)) this.localCache.set(name!, this.value(this.config.locals[name!]));
      return dig(await this.localCache.get(name!), rest, accessor);
    }
    if (root === 'path' && name === 'module') return DIR.replace(/\/$/, '');
    // <type>.<name>.<attribute>: the configured value if the attribute is set, else unknown.
    const resource = this.config.resource[root]?.[name!]?.[0];
    if (resource === undefined) throw new Error(`${accessor} refers to no resource of the configuration`);
    const attribute = rest[0];
    if (attribute !== undefined && attribute in resource) return this.value(resource[attribute]);
    return new Unknown(accessor);
  }
}

function dig(value: unknown, path: string[], accessor: string): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !(key in v)) throw new Error(`${accessor}: no ${key}`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

const first = <T = Block>(blocks: unknown): T => {
  expect(Array.isArray(blocks) && blocks.length === 1, `expected one block, got ${JSON.stringify(blocks)}`).toBe(true);
  return (blocks as T[])[0]!;
};

/** The value of a `KEY=value` line of the rendered user data (the server's environment). */
function envValue(userData: string, key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(userData);
  if (!m) throw new Error(`user data sets no ${key}`);
  return m[1]!;
}

/** Seconds of a duration the server parses ("10s"). */
const seconds = (duration: string) => {
  const m = /^(\d+)s$/.exec(duration);
  if (!m) throw new Error(`not a duration in seconds: ${duration}`);
  return Number(m[1]);
};

/** The contents of `cat > PATH <<'EOF' ... EOF` in the rendered user data. */
function heredoc(userData: string, path: string): string {
  const m = new RegExp(`cat > ${path.replace(/[.]/g, '\\.')} <<'?EOF'?\\n([\\s\\S]*?)\\nEOF\\n`).exec(userData);
  if (!m) throw new Error(`user data writes no ${path}`);
  return m[1]!;
}

describe('Terraform for AWS (deploy/aws), parsed with hcl2json', () => {
  let config: Config;
  let defaults: Record<string, unknown>;
  const resource = (type: string, name: string): Block => first(config.resource[type]?.[name]);
  const evaluator = (overrides: Record<string, unknown> = {}) => new Evaluator(config, { ...defaults, ...overrides });
  const render = async (overrides: Record<string, unknown> = {}): Promise<string> => {
    const ev = evaluator(overrides);
    const vars = (await ev.value(config.locals.user_data_vars)) as Record<string, unknown>;
    const template = readFileSync(join(DIR, 'user-data.sh.tftpl'), 'utf8');
    return String(await ev.withTemplateVars(vars).template(template));
  };

  beforeAll(async () => {
    config = await loadConfig();
    defaults = {};
    for (const [name, blocks] of Object.entries(config.variable)) if ('default' in blocks[0]) defaults[name] = blocks[0].default;
    // Variables without a default take the example's values, like a user's terraform.tfvars.
    const example = (await parse('terraform.tfvars.example', readFileSync(join(DIR, 'terraform.tfvars.example'), 'utf8'))) as Record<string, unknown>;
    for (const name of Object.keys(example)) expect(config.variable, `terraform.tfvars.example sets an undeclared ${name}`).toHaveProperty(name);
    Object.assign(defaults, example);
  });

  it('gives every variable a description and a type, and the example a value for each required one', () => {
    expect(Object.keys(config.variable).length).toBeGreaterThan(20);
    for (const [name, blocks] of Object.entries(config.variable)) {
      const v = first(blocks);
      expect(typeof v.description === 'string' && v.description.length > 10, `variable ${name}: description`).toBe(true);
      expect(typeof v.type === 'string' && /^\$\{.+\}$/.test(v.type), `variable ${name}: type`).toBe(true);
      expect(defaults, `variable ${name} has no default and no value in terraform.tfvars.example`).toHaveProperty(name);
    }
  });

  it('renders the user data with every template variable given, and none given in vain', async () => {
    const template = readFileSync(join(DIR, 'user-data.sh.tftpl'), 'utf8');
    const used = new Set(splitTemplate(template).flatMap((p) => ('expr' in p ? [...p.expr.matchAll(/[a-z_]+/g)].map((m) => m[0]) : [])));
    const given = Object.keys(config.locals.user_data_vars as Block);
    expect(given.filter((k) => !used.has(k))).toEqual([]);
    expect(resource('aws_launch_template', 'signal').user_data).toBe('${base64encode(templatefile("${path.module}/user-data.sh.tftpl", local.user_data_vars))}');
    const userData = await render();
    expect(userData).toMatch(/^#!\/bin\/bash\n/);
    const syntax = spawnSync('bash', ['-n'], { input: userData, encoding: 'utf8' });
    expect(syntax.status, `bash -n: ${syntax.stderr}`).toBe(0);
  });

  it('keeps the load balancer idle timeout at least twice the heartbeat the instances run with', async () => {
    const idle = (await evaluator().value(resource('aws_lb', 'signal').idle_timeout)) as number;
    const heartbeat = seconds(envValue(await render(), 'HEARTBEAT_INTERVAL'));
    expect(heartbeat).toBe(defaults.heartbeat_interval_seconds);
    expect(idle).toBeGreaterThanOrEqual(2 * heartbeat);
    // Both come from variables: the user data follows the heartbeat variable, and plan refuses
    // a heartbeat the idle timeout does not cover.
    expect(seconds(envValue(await render({ heartbeat_interval_seconds: 45 }), 'HEARTBEAT_INTERVAL'))).toBe(45);
    const precondition = first(first<Block>(resource('aws_lb', 'signal').lifecycle).precondition);
    expect(await evaluator().value(precondition.condition)).toBe(true);
    expect(await evaluator({ heartbeat_interval_seconds: 90 }).value(precondition.condition)).toBe(false);
    expect(await evaluator({ alb_idle_timeout_seconds: 50 }).value(precondition.condition)).toBe(false);
  });

  it('keeps the deregistration delay at least the drain timeout passed in user data, for any drain timeout', async () => {
    const targetGroup = resource('aws_lb_target_group', 'signal');
    for (const drain of [undefined, 1, 45, 300]) {
      const overrides = drain === undefined ? {} : { drain_timeout_seconds: drain };
      const userData = await render(overrides);
      const passed = seconds(envValue(userData, 'DRAIN_TIMEOUT'));
      expect(passed).toBe(drain ?? defaults.drain_timeout_seconds);
      const delay = (await evaluator(overrides).value(targetGroup.deregistration_delay)) as number;
      expect(delay, `deregistration delay with a ${passed} s drain`).toBeGreaterThanOrEqual(passed);
      expect(delay).toBeLessThanOrEqual(3600);
      // docker and systemd wait for the drain before they kill the server.
      const stopTimeout = Number(/--stop-timeout (\d+)/.exec(userData)?.[1]);
      expect(stopTimeout).toBeGreaterThan(passed);
      expect(Number(/docker stop --time (\d+)/.exec(userData)?.[1])).toBe(stopTimeout);
      expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(userData)?.[1])).toBeGreaterThan(stopTimeout);
    }
  });

  it('health-checks /health on the traffic port, with no stickiness', () => {
    const targetGroup = resource('aws_lb_target_group', 'signal');
    const health = first(targetGroup.health_check);
    expect(health).toMatchObject({ path: '/health', port: 'traffic-port', matcher: '200' });
    expect(targetGroup.port).toBe('${var.port}');
    expect(first(targetGroup.stickiness).enabled).toBe(false);
  });

  it('redirects HTTP to HTTPS, and terminates TLS with the certificate variable', () => {
    const http = resource('aws_lb_listener', 'http');
    expect(http).toMatchObject({ port: 80, protocol: 'HTTP' });
    expect(first(first<Block>(http.default_action).redirect)).toMatchObject({ protocol: 'HTTPS', port: '443' });
    const https = resource('aws_lb_listener', 'https');
    expect(https).toMatchObject({ port: 443, protocol: 'HTTPS', certificate_arn: '${var.certificate_arn}' });
    expect(first(https.default_action)).toMatchObject({ type: 'forward', target_group_arn: '${aws_lb_target_group.signal.arn}' });
  });

  it('points the Auto Scaling group at the target group and the launch template, with rolling instance refresh', async () => {
    const asg = resource('aws_autoscaling_group', 'signal');
    expect(asg.target_group_arns).toEqual(['${aws_lb_target_group.signal.arn}']);
    expect(first(asg.launch_template)).toEqual({ id: '${aws_launch_template.signal.id}', version: '${aws_launch_template.signal.latest_version}' });
    expect(first(asg.instance_refresh).strategy).toBe('Rolling');
    const [min, desired, max] = (await evaluator().value([asg.min_size, asg.desired_capacity, asg.max_size])) as number[];
    expect(min).toBeGreaterThanOrEqual(1);
    expect(min! <= desired! && desired! <= max!).toBe(true);
    expect(asg.vpc_zone_identifier).toBe('${var.private_subnet_ids}');
  });

  it('runs the image with REDIS_URL of the replication group, the Cognito flags and the file-descriptor limit', async () => {
    const userData = await render();
    expect(envValue(userData, 'REDIS_URL')).toBe('rediss://(known after apply: aws_elasticache_replication_group.redis.primary_endpoint_address):6379');
    expect(envValue(userData, 'AUTH')).toBe('jwt');
    for (const [key, variable] of [['COGNITO_REGION', 'cognito_region'], ['COGNITO_USER_POOL_ID', 'cognito_user_pool_id'], ['COGNITO_CLIENT_ID', 'cognito_client_id']] as const) {
      expect(envValue(userData, key)).toBe(defaults[variable]);
    }
    expect(envValue(userData, 'TRUST_PROXY')).toBe('1');
    expect(envValue(userData, 'PORT')).toBe(String(defaults.port));
    expect(envValue(userData, 'ADMIN_PORT')).toBe(String(defaults.admin_port));
    expect(userData).toContain(`IMAGE='${String(defaults.image)}'`);
    expect(userData).toMatch(/--env-file \/etc\/sleap-signal\/env/);
    expect(userData).toMatch(/ \$IMAGE serve\n/);
    const nofile = /--ulimit nofile=(\d+):(\d+)/.exec(userData);
    expect(nofile?.[1]).toBe(String(defaults.nofile_limit));
    expect(Number(nofile?.[1])).toBeGreaterThanOrEqual(Number(envValue(userData, 'MAX_CONNECTIONS')) + 1024);
    expect(heredoc(userData, '/etc/sysctl.d/90-sleap-signal.conf')).toMatch(/net\.core\.somaxconn = \d+/);
  });

  it('makes Redis a replication group with automatic failover, or the single small node when asked', async () => {
    const redis = resource('aws_elasticache_replication_group', 'redis');
    const shape = async (overrides: Record<string, unknown>) =>
      evaluator(overrides).value({ nodes: redis.num_cache_clusters, failover: redis.automatic_failover_enabled, multiAz: redis.multi_az_enabled });
    expect(await shape({})).toEqual({ nodes: 2, failover: true, multiAz: true });
    expect(await shape({ redis_single_node: true })).toEqual({ nodes: 1, failover: false, multiAz: false });
    expect(redis).toMatchObject({ transit_encryption_enabled: true, security_group_ids: ['${aws_security_group.redis.id}'] });
  });

  it('lets only the instances reach Redis, and only the load balancer reach the instances (not their admin port)', () => {
    const ingress = Object.values(config.resource.aws_vpc_security_group_ingress_rule ?? {}).map((b) => first(b));
    const into = (group: string) => ingress.filter((r) => r.security_group_id === `\${aws_security_group.${group}.id}`);
    expect(into('redis').length).toBeGreaterThan(0);
    for (const rule of into('redis')) {
      expect(rule).toMatchObject({ referenced_security_group_id: '${aws_security_group.instances.id}', from_port: '${local.redis_port}', to_port: '${local.redis_port}' });
      expect(rule).not.toHaveProperty('cidr_ipv4');
    }
    expect(into('instances').length).toBeGreaterThan(0);
    for (const rule of into('instances')) {
      expect(rule).toMatchObject({ referenced_security_group_id: '${aws_security_group.alb.id}', from_port: '${var.port}', to_port: '${var.port}' });
      expect(rule).not.toHaveProperty('cidr_ipv4');
    }
    // No other way in: no inline ingress blocks, no aws_security_group_rule resources.
    for (const group of Object.values(config.resource.aws_security_group ?? {})) expect(first(group)).not.toHaveProperty('ingress');
    expect(config.resource.aws_security_group_rule).toBeUndefined();
    expect(resource('aws_launch_template', 'signal').vpc_security_group_ids).toEqual(['${aws_security_group.instances.id}']);
  });

  it('has the CloudWatch agent scrape /metrics on the admin port and publish metrics the server has', async () => {
    const userData = await render();
    const scrape = heredoc(userData, '/opt/aws/amazon-cloudwatch-agent/etc/prometheus.yaml');
    expect(scrape).toContain(`- targets: ['127.0.0.1:${String(defaults.admin_port)}']`);
    expect(scrape).toContain('metrics_path: /metrics');
    expect(scrape).toContain(`AutoScalingGroupName: ${String(defaults.name)}`);
    const agent = JSON.parse(heredoc(userData, '/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json')) as {
      logs: { metrics_collected: { prometheus: { emf_processor: { metric_namespace: string; metric_declaration: { dimensions: string[][]; metric_selectors: string[] }[] } } } };
    };
    const emf = agent.logs.metrics_collected.prometheus.emf_processor;
    expect(emf.metric_namespace).toBe(defaults.metrics_namespace);
    const published = emf.metric_declaration.flatMap((d) => d.metric_selectors.map((s) => /^\^(\w+)\$$/.exec(s)?.[1] ?? s));
    const server = new ServerMetrics(async () => ({ rooms: 0, sizes: [] }));
    const exported = new Set(server.registry.getMetricsAsArray().map((m) => m.name));
    expect(published.filter((name) => !exported.has(name))).toEqual([]);
    expect(emf.metric_declaration[0]!.dimensions).toContainEqual(['AutoScalingGroupName']);

    // What the alarms, the scaling policy and the dashboard read from that namespace is published.
    const used = [
      resource('aws_cloudwatch_metric_alarm', 'redis_failures'),
      resource('aws_cloudwatch_metric_alarm', 'connections_near_limit'),
      first<Block>(first<Block>(resource('aws_autoscaling_policy', 'connections').target_tracking_configuration).customized_metric_specification),
    ];
    for (const m of used) {
      expect(m.namespace).toBe('${var.metrics_namespace}');
      expect(published).toContain(m.metric_name);
    }
  });

  it('scales on connections per instance, below the alarm, below the limit', async () => {
    const policy = resource('aws_autoscaling_policy', 'connections');
    expect(policy).toMatchObject({ policy_type: 'TargetTrackingScaling', autoscaling_group_name: '${aws_autoscaling_group.signal.name}' });
    const tracking = first<Block>(policy.target_tracking_configuration);
    const metric = first<Block>(tracking.customized_metric_specification);
    expect(metric).toMatchObject({ metric_name: 'websocket_connections_active', statistic: 'Average' });
    expect(first(metric.metric_dimension)).toEqual({ name: 'AutoScalingGroupName', value: '${local.asg_name}' });
    expect(resource('aws_autoscaling_group', 'signal').name).toBe('${local.asg_name}');
    const ev = evaluator();
    const target = (await ev.value(tracking.target_value)) as number;
    const alarm = (await ev.value(resource('aws_cloudwatch_metric_alarm', 'connections_near_limit').threshold)) as number;
    const limit = Number(envValue(await render(), 'MAX_CONNECTIONS'));
    expect(target).toBeLessThan(alarm);
    expect(alarm).toBeLessThan(limit);
  });

  it('alarms when no target is healthy, when Redis fails, and near the connection limit', () => {
    const noHealthy = resource('aws_cloudwatch_metric_alarm', 'no_healthy_target');
    expect(noHealthy).toMatchObject({ namespace: 'AWS/ApplicationELB', metric_name: 'HealthyHostCount', comparison_operator: 'LessThanThreshold', threshold: 1, treat_missing_data: 'breaching' });
    expect(noHealthy.dimensions).toEqual({ LoadBalancer: '${aws_lb.signal.arn_suffix}', TargetGroup: '${aws_lb_target_group.signal.arn_suffix}' });
    expect(resource('aws_cloudwatch_metric_alarm', 'redis_failures')).toMatchObject({ metric_name: 'redis_failures_total', comparison_operator: 'GreaterThanThreshold', threshold: 0 });
    expect(resource('aws_cloudwatch_metric_alarm', 'connections_near_limit')).toMatchObject({ metric_name: 'websocket_connections_active', statistic: 'Maximum' });
    for (const name of ['no_healthy_target', 'redis_failures', 'connections_near_limit']) {
      expect(resource('aws_cloudwatch_metric_alarm', name).alarm_actions).toBe('${var.alarm_actions}');
    }
  });

  it('draws the five dashboard panels', () => {
    expect(resource('aws_cloudwatch_dashboard', 'signal').dashboard_body).toBe('${jsonencode(local.dashboard)}');
    const widgets = (config.locals.dashboard as { widgets: { properties: { title: string } }[] }).widgets;
    expect(widgets.map((w) => w.properties.title)).toEqual([
      'Connections per instance',
      'Redis connection use',
      'Messages per second',
      'Load balancer target health',
      'Group size',
    ]);
  });
});

describe('the test evaluator', () => {
  it('evaluates what the configuration uses, and refuses what it cannot', async () => {
    const ev = new Evaluator({ variable: {}, locals: { a: '${var.n * 2}' }, resource: {}, data: {} }, { n: 3, on: false, xs: ['a', 'b'] });
    expect(await ev.value('${!var.on ? floor(local.a * 0.8) + max(1, var.n) : 0}')).toBe(7);
    expect(await ev.value('x-${join(",", var.xs)}-$${HOME}')).toBe('x-a,b-${HOME}');
    await expect(ev.value('${var.missing}')).rejects.toThrow(/no value/);
    await expect(ev.value('${[for x in var.xs : x]}')).rejects.toThrow(/cannot evaluate/);
  });
});
