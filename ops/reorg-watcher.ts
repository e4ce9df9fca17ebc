/**
 * The reorg watch behind `/sync-health`'s `reorgs`: Ponder 0.16 counts no reorgs and only logs an
 * unrecoverable one, so each API process keeps the recent block hashes itself.
 */
import type { Hex } from "viem";
import type { Reorg } from "../common/ops-api";

/** What the watcher needs of a block. */
export type ChainBlock = { number: bigint; hash: Hex; parentHash: Hex; timestamp: bigint };

export type ReorgWatcherParameters = { finalityBlocks: number; getBlock: (n: bigint) => Promise<ChainBlock> };

const compareBigints = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** Watches the chain's recent blocks and measures reorgs: a window of finality + 5 block hashes,
 * compared with the chain on every sample. A reorg that leaves no common ancestor in the window is
 * deeper than the finality window: unrecoverable for the running indexer. */
export class ReorgWatcher {
  private readonly hashes = new Map<bigint, Hex>();
  readonly window: number;
  seen = 0;
  deepest = 0;
  last: Reorg | null = null;
  unrecoverable = false;

  constructor(private readonly params: ReorgWatcherParameters) {
    this.window = params.finalityBlocks + 5;
  }

  /** Feeds the current head; fetches what it needs to keep the window contiguous. */
  async observe(head: ChainBlock): Promise<void> {
    await this.detectReorg(head);
    await this.fillWindow(head);
  }

  /** Checks that the chain still holds the highest block known (or the head, if the chain is
   * shorter); if not, records the reorg and forgets the replaced blocks. */
  private async detectReorg(head: ChainBlock): Promise<void> {
    const known = [...this.hashes.keys()].sort(compareBigints);
    const top = known[known.length - 1];
    if (top === undefined) return;
    const probe = head.number < top ? head.number : top;
    const chainAtProbe = probe === head.number ? head : await this.params.getBlock(probe);
    if (head.number >= top && chainAtProbe.hash === this.hashes.get(probe)) return;

    const ancestor = await this.commonAncestor({ known, head, probe, chainAtProbe });
    const depth = Number(top - (ancestor ?? known[0]! - 1n));
    const beyondWindow = ancestor === null;
    this.seen += 1;
    this.deepest = Math.max(this.deepest, depth);
    if (beyondWindow || depth > this.params.finalityBlocks) this.unrecoverable = true;
    this.last = { detectedAt: new Date().toISOString(), depth, commonAncestor: ancestor?.toString() ?? null, head: head.number.toString(), beyondWindow };
    for (const n of known) if (ancestor === null || n > ancestor) this.hashes.delete(n);
  }

  /** Walks down the known blocks until the chain agrees: that is the common ancestor (`null`
   * when none in the window does). */
  private async commonAncestor(params: { known: bigint[]; head: ChainBlock; probe: bigint; chainAtProbe: ChainBlock }): Promise<bigint | null> {
    const { known, head, probe, chainAtProbe } = params;
    for (let i = known.length - 1; i >= 0; i--) {
      const n = known[i]!;
      if (n > head.number) continue;
      const chainBlock = n === probe ? chainAtProbe : await this.params.getBlock(n);
      if (chainBlock.hash === this.hashes.get(n)) return n;
    }
    return null;
  }

  /** Keeps the window contiguous up to the head, and forgets blocks below it. */
  private async fillWindow(head: ChainBlock): Promise<void> {
    const w = BigInt(this.window);
    const remaining = [...this.hashes.keys()];
    const newTop = remaining.length > 0 ? remaining.reduce((a, b) => (a > b ? a : b)) : undefined;
    let from = newTop === undefined ? head.number - w : newTop + 1n;
    if (from < head.number - w) from = head.number - w;
    if (from < 0n) from = 0n;
    const missing: bigint[] = [];
    for (let n = from; n < head.number; n++) missing.push(n);
    for (const block of await Promise.all(missing.map((n) => this.params.getBlock(n)))) this.hashes.set(block.number, block.hash);
    this.hashes.set(head.number, head.hash);
    for (const n of [...this.hashes.keys()]) if (n <= head.number - w) this.hashes.delete(n);
  }
}
