/** Geometry of a native select, for the layout specs. */
import type { Locator } from '@playwright/test';

/** A select shows its chosen option's whole text: the text, its padding and the drop-down arrow's room (about 20 px). */
export async function selectShowsWhole(l: Locator): Promise<boolean> {
  return l.evaluate((el: HTMLSelectElement) => {
    const probe = document.createElement('span');
    probe.style.font = getComputedStyle(el).font;
    probe.style.position = 'absolute';
    probe.style.whiteSpace = 'pre';
    probe.textContent = el.selectedOptions[0]?.text ?? '';
    document.body.append(probe);
    const w = probe.getBoundingClientRect().width;
    probe.remove();
    const s = getComputedStyle(el);
    return w + parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) + 20 <= el.clientWidth;
  });
}
