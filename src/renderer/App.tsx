import { useEffect, useState } from 'react';
import type { Connection } from './api/connection';
import { Navigation } from './components/Navigation';
import { PlaceView } from './components/PlaceView';
import { StatusBar } from './components/StatusBar';
import { PLACES, placeFromHash, type PlaceId } from './places';

/** The frame: navigation on the left, the current place in the middle, what the engine sees at the bottom. */
export function App({ connection }: { connection: Connection }) {
  const [place, setPlace] = useState<PlaceId>(() => placeFromHash(window.location.hash));

  useEffect(() => {
    const onHash = () => setPlace(placeFromHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const go = (id: PlaceId) => {
    setPlace(id);
    window.history.replaceState(null, '', `#/${id}`);
  };

  const current = PLACES.find((p) => p.id === place) ?? PLACES[0];
  return (
    <div className="app">
      <header className="app-header">
        <span className="app-title">AnimateLCM Studio</span>
      </header>
      <Navigation places={PLACES} current={place} onSelect={go} />
      <main className="app-main" id="main" aria-labelledby="place-title">
        <PlaceView place={current} />
      </main>
      <StatusBar connection={connection} />
    </div>
  );
}
