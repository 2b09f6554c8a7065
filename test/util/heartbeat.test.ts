// A heartbeat file as a watcher sees it: silent for a short while at most while the beating process runs,
// silent for longer and longer once it stops, and silent from the start when nobody writes it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Heartbeat, HeartbeatWatch } from '../../src/util/heartbeat.js';
import { tempDir } from '../helpers/tiny-data.js';

test('a watcher sees a beating file change, and a stopped or absent one stay silent', async () => {
  const dir = tempDir('alembic-heartbeat-');
  const file = path.join(dir, 'alive');
  const beat = new Heartbeat(file, 20);
  const watch = new HeartbeatWatch(file);
  let longest = 0;
  for (let i = 0; i < 15; i++) {
    await sleep(20);
    longest = Math.max(longest, watch.silentMs());
  }
  // 20 ms beats, looked at every 20 ms: never silent for long (generous for a loaded machine).
  assert.ok(longest < 250, `silent for ${longest} ms while beating`);
  beat.stop();
  watch.silentMs(); // takes in the last beat
  await sleep(300);
  assert.ok(watch.silentMs() >= 250, 'still changing after stop()');

  const nobody = new HeartbeatWatch(path.join(dir, 'never-written'));
  await sleep(100);
  assert.ok(nobody.silentMs() >= 90);
});
