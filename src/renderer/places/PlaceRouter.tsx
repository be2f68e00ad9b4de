import type { Place } from '../places';
import '../studio.css';
import { GeneratePlace } from './generate/GeneratePlace';
import { HistoryPlace } from './history/HistoryPlace';
import { LibraryPlace } from './library/LibraryPlace';
import { SettingsPlace } from './settings/SettingsPlace';
import { TimelinePlace } from './timeline/TimelinePlace';

/** The panel for the current place. */
export function PlaceRouter({ place }: { place: Place }) {
  switch (place.id) {
    case 'generate':
      return <GeneratePlace />;
    case 'library':
      return <LibraryPlace />;
    case 'timeline':
      return <TimelinePlace />;
    case 'history':
      return <HistoryPlace />;
    case 'settings':
      return <SettingsPlace />;
  }
}
