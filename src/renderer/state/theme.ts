/**
 * Dark or light: dark by default (clips read best on a dark surround); the choice is kept in localStorage and
 * applied as <html data-theme> before the first paint (main.tsx), so the page never flashes the other theme.
 */
import { useCallback, useState } from 'react';

export type Theme = 'dark' | 'light';
const KEY = 'animatelcm-studio.theme';

export function storedTheme(): Theme {
  try {
    return localStorage.getItem(KEY) === 'light' ? 'light' : 'dark';
  } catch {
    return 'dark';
  }
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(storedTheme);
  const toggle = useCallback(() => {
    setTheme((t) => {
      const next: Theme = t === 'dark' ? 'light' : 'dark';
      applyTheme(next);
      try {
        localStorage.setItem(KEY, next);
      } catch {
        // private mode: the choice lasts for this page only
      }
      return next;
    });
  }, []);
  return [theme, toggle];
}
