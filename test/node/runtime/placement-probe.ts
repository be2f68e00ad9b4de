/**
 * Child process for webgpu-placement.test.ts: opens `<model>` on `<provider>` with onnxruntime's verbose log
 * on (it goes to this process's stderr, natively) and exits. The log's "Node placements" block is onnxruntime's
 * own record of which execution provider got each node, after partitioning and Memcpy insertion.
 */
import ort from 'onnxruntime-node';

const [model, provider] = process.argv.slice(2);
const s = await ort.InferenceSession.create(model, { executionProviders: [provider], logSeverityLevel: 0, logVerbosityLevel: 0 });
await s.release();
