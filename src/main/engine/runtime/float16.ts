/**
 * f32 ↔ f16 at the session boundary: callers always hand float32 to EngineSession, and fp16 graphs get
 * Uint16Array bits (onnxruntime-node has no Float16Array). The conversion itself lives with the compiler,
 * which needs it for fp16 weight files; this re-export is the runtime's name for it.
 */
export { f32ToF16, f16ToF32, f32BitsToHalf } from '../../compiler/io/float16';
