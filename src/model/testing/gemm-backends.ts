/**
 * The gemm backends a test can run on: native and js when the addon is built, js alone
 * otherwise. The addon is required in CI (.ci/run fails without it); locally the native cases
 * skip without it. The probe restores the backend it found.
 */
import { activeNativeAddon, gemmBackend, setGemmBackend } from '../kernels/gemm.ts';

export function testableGemmBackends(): readonly ('native' | 'js')[] {
  const saved = gemmBackend();
  try {
    setGemmBackend('native');
    return activeNativeAddon() !== null ? ['native', 'js'] : ['js'];
  } catch {
    return ['js'];
  } finally {
    setGemmBackend(saved);
  }
}
