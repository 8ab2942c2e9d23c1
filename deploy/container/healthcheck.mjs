// Container health probe, run with the image's own node (the image has no curl or shell tools).
//   node deploy/container/healthcheck.mjs          exit 0 if GET /health answers 200 (ready)
//   node deploy/container/healthcheck.mjs --live   exit 0 if it answers at all: a 503 (draining, or
//                                                  Redis unreachable) still means the process is alive
// It asks 127.0.0.1 on $PORT (default 8080), the port serve reads.
const live = process.argv.includes('--live');
const port = process.env.PORT || '8080';
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
  process.exit(res.status === 200 || (live && res.status === 503) ? 0 : 1);
} catch {
  process.exit(1);
}
