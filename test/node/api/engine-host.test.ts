/**
 * The engine host and worker protocol with a real worker process (from source, under tsx): requests, jobs of a
 * kind nobody registered, a worker that dies, and a worker that cannot start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EngineHost, childProcessLauncher, engineWorkerEntry, type EngineChannel } from '../../../src/main/services/engine-host';
import type { EngineStatus } from '../../../src/shared/api';
import { StudioError } from '../../../src/shared/errors';

const hosts: EngineHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.dispose()));
});

describe('EngineHost', () => {
  it('runs the worker from source and answers ping from another process', async () => {
    const entry = engineWorkerEntry();
    expect(entry.fromSource).toBe(true);
    expect(entry.path).toMatch(/src[/\\]main[/\\]engine[/\\]worker\.ts$/);
    const host = new EngineHost();
    hosts.push(host);
    const pong = await host.request('ping', {});
    expect(pong.pid).not.toBe(process.pid);
    expect(pong.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(host.status).toEqual({ state: 'ready', activeJobs: 0 });
  });

  it('fails a job of an unregistered kind with a clear error and goes back to ready', async () => {
    const host = new EngineHost();
    hosts.push(host);
    const states: EngineStatus['state'][] = [];
    host.onStatus((s) => states.push(s.state));
    const job = host.runJob('no-such-kind', 'job-1', {});
    await expect(job.result).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/not available yet/) });
    expect(states).toContain('busy');
    expect(host.status.state).toBe('ready');
    expect(host.cancelJob('job-1')).toBe(false);
  });

  it('fails what was pending when the worker dies, reports it, and restarts on the next request', async () => {
    let channel: EngineChannel | undefined;
    const host = new EngineHost((entry) => (channel = childProcessLauncher(entry)));
    hosts.push(host);
    const first = await host.request('ping', {});
    const pending = host.request('info', {});
    channel?.kill();
    await expect(pending).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/stopped unexpectedly/) });
    expect(host.status.state).toBe('failed');
    const second = await host.request('ping', {});
    expect(second.pid).not.toBe(first.pid);
    expect(host.status.state).toBe('ready');
  });

  it('reports a worker that cannot start as failed, with the reason', async () => {
    const host = new EngineHost(childProcessLauncher, () => ({ path: '/nonexistent/engine-worker.js', execArgv: [], fromSource: false }));
    hosts.push(host);
    const err = await host.request('ping', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect(host.status.state).toBe('failed');
    expect(host.status.error?.message).toMatch(/stopped unexpectedly/);
  });
});
