/**
 * Prints engineInfo() as JSON, in a process of its own: the Vulkan loader reads VK_ICD_FILENAMES once, when the
 * first WebGPU session starts, so a probe with a different driver set needs a fresh process.
 */
import { engineInfo } from '../../../src/main/engine/runtime/info';

process.stdout.write(JSON.stringify(await engineInfo()));
