/** Small display helpers. */
import type { Address } from "viem";

export function short(value: string): string {
  return value.length > 14 ? `${value.slice(0, 6)}…${value.slice(-4)}` : value;
}

export function sameAddress(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** "12 s", "2 min", "4 h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/** "3 s ago", "2 min ago", "4 h ago". */
export function ago(ms: number): string {
  return `${duration(ms)} ago`;
}

export function dayLabel(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(5, 10);
}

export function accountHref(address: Address | string): string {
  return `#/account/${address.toLowerCase()}`;
}
