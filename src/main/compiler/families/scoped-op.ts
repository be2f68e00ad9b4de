import type { Attr, GraphBuilder } from '../graph/builder';

/**
 * `op(type, inputs, name, attrs)` adding a node under module path `scope`. Layer helpers scope themselves by
 * their full module path, so family builders scope only their own glue ops (adds, reshapes, transposes)
 * rather than wrapping whole modules, which would double the path in node names.
 */
export function scopedOp(g: GraphBuilder, scope: string): (opType: string, inputs: string[], name: string, attrs?: Record<string, Attr>) => string {
  return (opType, inputs, name, attrs = {}) => g.scope(scope, () => g.op(opType, inputs, attrs, { name }));
}
