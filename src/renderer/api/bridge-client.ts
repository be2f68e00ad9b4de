/** Electron: the preload's named functions return result envelopes; turn them back into values and StudioErrors. */
import { API_METHODS, API_EVENTS, type ApiResult, type StudioApi, type StudioBridge } from '../../shared/api';
import { deserializeError } from '../../shared/errors';

export function fromBridge(bridge: StudioBridge): StudioApi {
  const api: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    const call = bridge[method] as (...args: unknown[]) => Promise<ApiResult<unknown>>;
    api[method] = async (...args: unknown[]) => {
      const r = await call(...args);
      if (!r.ok) throw deserializeError(r.error);
      return r.value;
    };
  }
  for (const event of API_EVENTS) api[event] = bridge[event];
  return api as unknown as StudioApi;
}
