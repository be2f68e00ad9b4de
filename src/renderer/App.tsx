import { useCallback, useEffect, useState } from 'react';
import type { Connection } from './api/connection';
import { Navigation } from './components/Navigation';
import { StatusBar } from './components/StatusBar';
import { PLACES, placeFromHash, type PlaceId } from './places';
import { PlaceRouter } from './places/PlaceRouter';
import { StudioProvider } from './state/studio-context';
import { useTheme } from './state/theme';

/** The frame: navigation on the left, the current place in the middle, what the engine sees at the bottom. */
export function App({ connection }: { connection: Connection }) {
  const [place, setPlace] = useState<PlaceId>(() => placeFromHash(window.location.hash));
  const [theme, toggleTheme] = useTheme();

  useEffect(() => {
    const onHash = () => setPlace(placeFromHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const go = useCallback((id: PlaceId) => {
    setPlace(id);
    window.history.replaceState(null, '', `#/${id}`);
  }, []);

  const current = PLACES.find((p) => p.id === place) ?? PLACES[0];
  return (
    <StudioProvider connection={connection} go={go}>
      <div className="app">
        <header className="app-header">
          <span className="app-title">AnimateLCM Studio</span>
          <span className="spacer" />
          <button type="button" className="button button-small" onClick={toggleTheme} aria-pressed={theme === 'light'} data-testid="theme-toggle">
            {theme === 'dark' ? 'Light theme' : 'Dark theme'}
          </button>
        </header>
        <Navigation places={PLACES} current={place} onSelect={go} />
        <main className="app-main" id="main" aria-labelledby="place-title">
          <PlaceRouter place={current} />
        </main>
        <StatusBar connection={connection} />
      </div>
    </StudioProvider>
  );
}
