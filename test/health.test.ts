// gRPC health checking (grpc.health.v1) on the server: SERVING while it runs.
import { createChannel, createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import t from 'tap';
import { startFarm } from './helpers/farm.js';

const SERVING = 1;

t.test('a health check against the server returns SERVING', async (t) => {
  const farm = await startFarm({ workers: [] });
  t.teardown(() => farm.stop());
  const channel = createChannel(farm.addr);
  t.teardown(() => channel.close());
  const health = createClient(HealthDefinition, channel);
  const reply = await health.check({ service: '' });
  t.equal(reply.status, SERVING);
});
