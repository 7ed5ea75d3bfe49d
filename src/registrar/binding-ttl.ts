import type { Binding } from './core/bindings.js';

/** Bindings outlive their expiry a little in the cache, so an expired one can still be cleared from the row. */
export const BINDING_GRACE_MS = 60_000;

/** How long the cache keeps an AoR's bindings: until the last one expires, and the grace. */
export function bindingTtl(bindings: readonly Binding[], now: number): number {
  return Math.max(0, ...bindings.map((binding) => binding.expiresAt - now)) + BINDING_GRACE_MS;
}
