import type { GraphIR, InitializerIR, NodeIR, ValueInfoIR } from '../src/main/compiler/graph/builder';
import type { TensorView } from '../src/main/compiler/io/tensor';

/**
 * The design the studio did NOT ship, built for the `controlnet` bench only: ControlNet(s) and UNet in ONE graph.
 * It composes the two families' compiled graphs as they are (controlnet.ts and the UNet with `controlResiduals`),
 * so both variants run exactly the same nodes and the bench compares only the session boundary, not two builders.
 *
 * Net k's values, nodes and inputs get the prefix `cn<k>/` (its `controlnet_cond` and `conditioning_scale` become
 * `cn<k>/controlnet_cond`, …); `sample`, `timestep` and `encoder_hidden_states` are shared. Its weights are
 * renamed `controlnet.<k>.<name>` (the ControlNet's encoder has the UNet's canonical names), so the caller's
 * weight index must carry them under those keys (`fusedWeightKey`). The UNet's `down_residual_i` / `mid_residual`
 * inputs become the nets' residuals summed in net order, as the engine sums them between the two sessions.
 */

const SHARED_INPUTS = new Set(['sample', 'timestep', 'encoder_hidden_states']);
const RESIDUAL = /^(down_residual_\d+|mid_residual)$/;

/** The weight-index key net k's weight `key` has in a fused graph. */
export function fusedWeightKey(k: number, key: string): string {
  return `controlnet.${k}.${key}`;
}

function renamedView(v: TensorView, name: string): TensorView {
  return { name, dtype: v.dtype, shape: v.shape, readF32: () => v.readF32(), readRaw: () => v.readRaw() };
}

export function fuseControlNets(unet: GraphIR, nets: readonly GraphIR[], name: string): GraphIR {
  const residuals = unet.inputs.filter((i) => RESIDUAL.test(i.name)).map((i) => i.name);
  if (residuals.length === 0) throw new Error('fuseControlNets: the UNet graph has no residual inputs (build it with controlResiduals)');
  if (nets.length === 0) throw new Error('fuseControlNets: no ControlNet to fuse');
  const nodes: NodeIR[] = [];
  const initializers: InitializerIR[] = [];
  const inputs: ValueInfoIR[] = unet.inputs.filter((i) => !RESIDUAL.test(i.name));
  const opsets = { ...unet.opsets };
  nets.forEach((net, k) => {
    const p = `cn${k}/`;
    const rename = (v: string): string => (v === '' || SHARED_INPUTS.has(v) ? v : p + v);
    for (const n of net.nodes) nodes.push({ ...n, name: p + n.name, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) });
    for (const i of net.initializers) {
      const source = i.source.kind === 'weight' ? { ...i.source, view: renamedView(i.source.view, fusedWeightKey(k, i.source.view.name)) } : i.source;
      initializers.push({ ...i, name: p + i.name, source });
    }
    for (const i of net.inputs) if (!SHARED_INPUTS.has(i.name)) inputs.push({ ...i, name: p + i.name });
    Object.assign(opsets, net.opsets);
  });
  for (const r of residuals) {
    if (!nets.every((net) => net.outputs.some((o) => o.name === r))) throw new Error(`fuseControlNets: a ControlNet graph has no output ${r}`);
    let acc = `cn0/${r}`;
    for (let k = 1; k < nets.length; k++) {
      const out = k === nets.length - 1 ? r : `sum${k}/${r}`;
      nodes.push({ opType: 'Add', domain: '', name: `control_sum/${r}_${k}`, inputs: [acc, `cn${k}/${r}`], outputs: [out], attrs: {} });
      acc = out;
    }
    if (nets.length === 1) nodes.push({ opType: 'Identity', domain: '', name: `control_sum/${r}`, inputs: [acc], outputs: [r], attrs: {} });
  }
  nodes.push(...unet.nodes);
  initializers.push(...unet.initializers);
  return { ...unet, name, nodes, initializers, inputs, opsets, metadata: { ...unet.metadata, family: 'unet_controlnet_fused', units: String(nets.length) } };
}
