// Part of the "telemetry" section: the export's work done beside a gateway instead of in it. A
// process of its own that makes a sync chat request's two spans and exports them from its worker
// thread over http/protobuf to a sink the section gives it, exactly as an exporting gateway would, at a
// rate it is told: so that an export-off gateway can be run beside the same CPU use. If that
// gateway loses as much throughput as export on does, the loss is the machine's (cores shared
// with the load generator and the upstream), not the export path's.
// argv[2]: the sink's URL. Prints "ready", then per stdin line {"rate": <requests per second>}
// (0 stops) answers "ok" once the rate applies.
import { createInterface } from 'node:readline';
import { exportingTelemetry } from '../../functions/adapters/otel/telemetry';
import { loadOtlpSettings } from '../../functions/config/otlp';
import { oneRequest } from './telemetry-threads';

const TICK_MS = 10;

function main(): void {
  const sinkUrl = process.argv[2];
  if (!sinkUrl) throw new Error('usage: telemetry-bystander <sink url>');
  const settings = loadOtlpSettings({ OTLP_ENDPOINT: sinkUrl }).otlp;
  if (!settings) throw new Error('OTLP_ENDPOINT gave no export settings');
  const telemetry = exportingTelemetry(settings, 'bench-bystander', undefined, 'worker');
  let rate = 0;
  let owed = 0;
  let n = 0;
  let last = performance.now();
  // Each tick makes the requests owed since the last one, so the rate holds when a tick is late.
  setInterval(() => {
    const now = performance.now();
    owed += (rate * (now - last)) / 1000;
    last = now;
    for (; owed >= 1; owed -= 1) oneRequest(telemetry, n++);
  }, TICK_MS);
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const cmd = JSON.parse(line) as { rate?: number };
      rate = Math.max(0, Number(cmd.rate ?? 0));
      owed = 0;
      last = performance.now();
      process.stdout.write('ok\n');
    })
    .on('close', () => {
      void telemetry.shutdown().finally(() => process.exit(0));
    });
  process.stdout.write('ready\n');
}

main();
