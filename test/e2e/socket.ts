/** A StudioApi call over web mode's WebSocket from the test process, to compare the page with the backend. */
import WebSocket from 'ws';
import type { ApiResult, WireMessage } from '../../src/shared/api';

export interface SocketOutcome {
  /** HTTP status when the upgrade was refused. */
  refusedWith?: number;
  result?: ApiResult<unknown>;
}

export function callOverSocket(url: string, headers: Record<string, string>, method: string, args: unknown[] = []): Promise<SocketOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('no answer within 30 s'))), 30_000);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve({ refusedWith: res.statusCode });
      ws.terminate();
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method, args })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as WireMessage;
      if (msg.type === 'result' && msg.id === 1) {
        clearTimeout(timer);
        resolve({ result: msg.result });
        ws.close();
      }
    });
  });
}
