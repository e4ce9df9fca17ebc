/**
 * Ponder's checkpoint format, decoded once: `latest_checkpoint` in `_ponder_checkpoint` (and
 * the live query the web app subscribes to) is 75 digits: 10 of block timestamp, 16 of chain
 * id, 16 of block number, then the position inside the block.
 */

export type Checkpoint = { blockTimestamp: bigint; chainId: bigint; blockNumber: bigint };

/** Decodes a checkpoint string; undefined when it is not 75 digits. */
export function decodeCheckpoint(checkpoint: string): Checkpoint | undefined {
  if (!/^\d{75}$/.test(checkpoint)) return undefined;
  return {
    blockTimestamp: BigInt(checkpoint.slice(0, 10)),
    chainId: BigInt(checkpoint.slice(10, 26)),
    blockNumber: BigInt(checkpoint.slice(26, 42)),
  };
}
