/** The handle every panel gets from the frame: the StudioApi, media URLs, the transport mode, navigation. */
import { createContext, useContext } from 'react';
import type { StudioApi, TransportMode } from '../../shared/api';
import type { PlaceId } from '../places';

export interface StudioHandle {
  api: StudioApi;
  mode: TransportMode;
  mediaUrl(path: string): string;
  /** Moves to another place (History → Generate after "reuse parameters", Library → Generate after "apply"). */
  go(place: PlaceId): void;
}

export const StudioContext = createContext<StudioHandle | null>(null);

export function useStudio(): StudioHandle {
  const s = useContext(StudioContext);
  if (!s) throw new Error('useStudio outside StudioProvider');
  return s;
}

export function useStudioApi(): StudioApi {
  return useStudio().api;
}
