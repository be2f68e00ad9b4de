import { useRef, type KeyboardEvent } from 'react';
import type { Place, PlaceId } from '../places';

/** The four places. Tab reaches the list; arrow keys, Home and End move between places. */
export function Navigation({ places, current, onSelect }: { places: readonly Place[]; current: PlaceId; onSelect: (id: PlaceId) => void }) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);

  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const last = places.length - 1;
    const target =
      e.key === 'ArrowDown' || e.key === 'ArrowRight' ? (index === last ? 0 : index + 1)
      : e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? (index === 0 ? last : index - 1)
      : e.key === 'Home' ? 0
      : e.key === 'End' ? last
      : null;
    if (target === null) return;
    e.preventDefault();
    onSelect(places[target].id);
    refs.current[target]?.focus();
  };

  return (
    <nav className="app-nav" aria-label="Places">
      <ul>
        {places.map((p, i) => (
          <li key={p.id}>
            <button
              type="button"
              ref={(el) => {
                refs.current[i] = el;
              }}
              className="nav-item"
              aria-current={p.id === current ? 'page' : undefined}
              onClick={() => onSelect(p.id)}
              onKeyDown={(e) => onKeyDown(e, i)}
            >
              {p.label}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
