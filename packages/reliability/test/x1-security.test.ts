/**
 * X1: the battery's workers and producer as a least-privilege ACL user (test/least-privilege-acl.ts,
 * limited to the scenario's keys and channels), over TLS to a redis-server with a certificate the test
 * made, with a canary secret in every payload and in the password. Pass: all tasks done (with a worker
 * SIGKILLed and recovered on the way); TLS is really in use (a client that does not trust the
 * certificate is refused); the canaries appear in no log, error or `inspect` output.
 * (The whole integration suite as a least-privilege user: `Q_TEST_ACL=1 npm test`.)
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { inspect } from 'node:util';
import { createRedisBroker } from '@q/broker-redis';
import { silentLogger } from '@q/core';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/redis-server';
import { leastPrivilegeAcl } from '../../../test/least-privilege-acl';
import { makeSelfSignedCertificate } from '../../../test/self-signed-certificate';
import { RestartableRedis } from '../src/redis-tools';
import { reportFigures, Scenario } from '../src/scenario';
import { sized, timeLimit } from '../src/scale';

const size = sized({ ci: { tasks: 400, rate: 80 }, full: { tasks: 3000, rate: 150 } });

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('X1: least-privilege ACL user, TLS, canary secrets', () => {
  it(
    'processes everything as the ACL user over TLS and never shows the canaries',
    async () => {
      const certificate = makeSelfSignedCertificate();
      cleanup.push(() => Promise.resolve(rmSync(certificate.dir, { recursive: true, force: true })));
      const tlsPort = await freePort();
      const redis = await RestartableRedis.start([
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        certificate.certFile,
        '--tls-key-file',
        certificate.keyFile,
        '--tls-ca-cert-file',
        certificate.certFile,
        '--tls-auth-clients',
        'no',
      ]);
      cleanup.push(() => redis.stop());
      const payloadCanary = `canary-payload-${randomUUID()}`;
      const passwordCanary = `canary-password-${randomUUID()}`;
      const user = 'q-worker';
      const scenario = await Scenario.create({
        target: {
          url: `rediss://127.0.0.1:${tlsPort}`,
          username: user,
          password: passwordCanary,
          tlsCa: certificate.pem,
        },
        auditTarget: { url: redis.url },
        queues: ['x1'],
      });
      cleanup.push(() => scenario.dispose());
      const created = await redis.cli([
        'ACL',
        'SETUSER',
        ...leastPrivilegeAcl({
          user,
          password: passwordCanary,
          keys: `${scenario.prefix}:*`,
          channels: `${scenario.prefix}:*`,
        }),
      ]);
      expect(created).toBe('OK');

      // TLS is in use: without trusting the certificate, the connection is refused.
      const connectionErrors: string[] = [];
      const untrusting = createRedisBroker({
        logger: {
          ...silentLogger,
          warn: (fields: unknown) => void connectionErrors.push(JSON.stringify(fields)),
        },
        url: `rediss://127.0.0.1:${tlsPort}`,
        username: user,
        password: passwordCanary,
        redisOptions: { maxRetriesPerRequest: 0, retryStrategy: () => null },
      });
      const untrusted = await untrusting.ping().then(
        () => 'connected',
        (error: unknown) => [inspect(error, { depth: Infinity }), ...connectionErrors].join('\n'),
      );
      untrusting.connection.disconnect();

      await Promise.all([scenario.startWorker('w1'), scenario.startWorker('w2')]);
      const producer = scenario.startProducer({ count: size.tasks, rate: size.rate, canary: payloadCanary });
      const produced = scenario.producerDone(producer, timeLimit(60_000));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await scenario.killWorker('w1');
      await scenario.startWorker('w1');
      // A worker with a wrong password (the canary in it) must say so without showing it.
      const wrong = await scenario
        .startWorker('wrong-password', {
          target: { ...scenario.target, password: `${passwordCanary}-wrong` },
        })
        .catch((error: unknown) => error);
      const wrongHandle = scenario.workers.get('wrong-password')!;
      await wrongHandle
        .waitForLine((line) => /WRONGPASS|invalid username-password/.test(JSON.stringify(line)), 15_000)
        .catch(() => undefined);
      wrongHandle.kill('SIGKILL');
      await wrongHandle.exited;
      const { acked, failed } = await produced;
      await scenario.waitForDrain(acked, 60_000);
      const audit = await scenario.audit();

      const outputs = [...scenario.allWorkers, ...scenario.producers]
        .map((handle) => handle.output())
        .join('\n');
      const inspected = [
        inspect(scenario.broker, { depth: Infinity }),
        inspect(untrusting, { depth: Infinity }),
        untrusted,
      ].join('\n');
      const leaks = (text: string) =>
        [payloadCanary, passwordCanary].filter((canary) => text.includes(canary)).length;
      const noPermission = scenario.workerLines().filter((line) => JSON.stringify(line).includes('NOPERM'));
      const figures = {
        tasks: size.tasks,
        acked,
        enqueueFailures: failed,
        lost: audit.lost.length,
        workersAlive: ['w1', 'w2'].filter((name) => scenario.workers.get(name)?.running).length,
        untrustedConnectionError: connectionErrors[0]?.slice(0, 160),
        noPermissionErrors: noPermission.length,
        untrustedCertificateRefused: /self[- ]signed|certificate/i.test(untrusted),
        wrongPasswordReported:
          wrongHandle.output().includes('WRONGPASS') || String(wrong).includes('WRONGPASS'),
        outputBytesChecked: outputs.length,
        canaryLeaksInLogs: leaks(outputs),
        canaryLeaksInErrorsAndInspect: leaks(inspected),
      };
      reportFigures('X1', figures);
      expect(audit.lost).toEqual([]);
      expect(failed).toBe(0);
      expect(noPermission).toEqual([]);
      expect(figures.untrustedCertificateRefused).toBe(true);
      expect(figures.wrongPasswordReported).toBe(true);
      expect(figures.canaryLeaksInLogs).toBe(0);
      expect(figures.canaryLeaksInErrorsAndInspect).toBe(0);
    },
    timeLimit(90_000),
  );
});
