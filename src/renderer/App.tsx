import { useCallback, useEffect, useState } from 'react';
import type { Connection } from './api/connection';
import { Navigation } from './components/Navigation';
import { StatusBar } from './components/StatusBar';
import { PLACES, placeFromHash, type PlaceId } from './places';
import { PlaceRouter } from './places/PlaceRouter';
import { StudioProvider } from './state/studio-context';
import { useTheme } from './state/theme';
import { ShortcutsHelp } from './components/ShortcutsHelp';
import { typingIn } from './shortcuts';

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

  // Studio-wide keys (the list is src/renderer/shortcuts.ts): Alt+1…5 for the places, ? for the list.
  const [help, setHelp] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey && !e.ctrlKey && !e.metaKey && /^Digit[1-5]$/.test(e.code)) {
        e.preventDefault();
        go(PLACES[Number(e.code.slice(5)) - 1].id);
      } else if (e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey && !typingIn(e.target)) {
        e.preventDefault();
        setHelp((h) => !h);
      } else if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typingIn(e.target)) {
        const search = document.querySelector<HTMLInputElement>('#main input[type="search"]');
        if (search) {
          e.preventDefault();
          search.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  const current = PLACES.find((p) => p.id === place) ?? PLACES[0];
  return (
    <StudioProvider connection={connection} go={go}>
      <div className="app">
        <header className="app-header">
          <span className="app-title">AnimateLCM Studio</span>
          <span className="spacer" />
          <button type="button" className="button button-small" onClick={() => setHelp(true)} aria-keyshortcuts="?" data-testid="shortcuts-open">
            Shortcuts (?)
          </button>
          <button type="button" className="button button-small" onClick={toggleTheme} aria-pressed={theme === 'light'} data-testid="theme-toggle">
            {theme === 'dark' ? 'Light theme' : 'Dark theme'}
          </button>
        </header>
        <Navigation places={PLACES} current={place} onSelect={go} />
        <main className="app-main" id="main" aria-labelledby="place-title">
          <PlaceRouter place={current} />
        </main>
        <StatusBar connection={connection} />
        <ShortcutsHelp open={help} onClose={() => setHelp(false)} />
      </div>
    </StudioProvider>
  );
}
