/**
 * What a ControlNet hands the UNet: one residual per UNet skip feature (in the order the up path collects them)
 * and one for the mid block, already scaled. Several ControlNets sum in net order (diffusers' MultiControlNet
 * adds net 1's into net 0's; numerically the same sum), element by element in float32.
 */
export interface ControlResiduals {
  down: Float32Array[];
  mid: Float32Array;
}

/** `into` += `add`, element by element (float32 stores); returns `into`. */
export function addResiduals(into: ControlResiduals, add: ControlResiduals): ControlResiduals {
  if (into.down.length !== add.down.length || into.mid.length !== add.mid.length) {
    throw new Error(`ControlNet residuals do not line up (${into.down.length} vs ${add.down.length} skip features)`);
  }
  into.down.forEach((d, i) => {
    const a = add.down[i];
    if (a.length !== d.length) throw new Error(`ControlNet residual ${i} has ${a.length} values, expected ${d.length}`);
    for (let k = 0; k < d.length; k++) d[k] += a[k];
  });
  for (let k = 0; k < into.mid.length; k++) into.mid[k] += add.mid[k];
  return into;
}

/** A copy (the sum must not write into a ControlNet's own output arrays). */
export function cloneResiduals(r: ControlResiduals): ControlResiduals {
  return { down: r.down.map((d) => d.slice()), mid: r.mid.slice() };
}
