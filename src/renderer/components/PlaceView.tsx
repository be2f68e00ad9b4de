import type { Place } from '../places';

/** A place's heading and, until its panel exists, an empty state that says what will be here. */
export function PlaceView({ place }: { place: Place }) {
  return (
    <section className="place" data-place={place.id}>
      <h1 id="place-title">{place.label}</h1>
      <p className="place-summary">{place.summary}</p>
      <div className="empty-state" role="note">
        <p>{place.empty}</p>
      </div>
    </section>
  );
}
