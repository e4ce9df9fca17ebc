/** Intent ids: one per thing the user means to do (a review, from its opening to its Confirm),
 * so repeating the gesture submits nothing new: the engine returns the action that already
 * carries the id. */

/** A fresh id for one intent. */
export function newIntentId(): string {
  return globalThis.crypto.randomUUID();
}
