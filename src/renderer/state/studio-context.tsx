/**
 * The shared client state under one provider at the top, so switching places keeps the queue, the draft and the
 * streaming previews alive.
 */
import { useMemo, type ReactNode } from 'react';
import type { Connection } from '../api/connection';
import type { PlaceId } from '../places';
import { DraftProvider } from './draft';
import { JobsProvider } from './jobs';
import { StudioContext, type StudioHandle } from './studio-api';
import { ToastProvider } from './toasts';

export function StudioProvider({ connection, go, children }: { connection: Connection; go: (place: PlaceId) => void; children: ReactNode }) {
  const handle = useMemo<StudioHandle>(() => ({ api: connection.api, mode: connection.mode, mediaUrl: connection.mediaUrl, go }), [connection, go]);
  return (
    <StudioContext.Provider value={handle}>
      <ToastProvider>
        <DraftProvider>
          <JobsProvider>{children}</JobsProvider>
        </DraftProvider>
      </ToastProvider>
    </StudioContext.Provider>
  );
}
