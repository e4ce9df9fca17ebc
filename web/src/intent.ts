/** Intent ids: one per thing the user means to do, so repeating the gesture submits nothing new
 * (the engine returns the action that already carries the id). */
import { type MouseEvent, useRef } from "react";

/** A fresh id for one intent (a click, a review's opening). */
export function newIntentId(): string {
  return globalThis.crypto.randomUUID();
}

/** Clicks closer together than this are one gesture even where the browser does not count
 * them as a double-click (a double tap on a phone). */
const SAME_GESTURE_MS = 600;

/**
 * For a button that submits on click: the intent id of this click. The clicks of one double-
 * or triple-click (`detail` > 1, the browser's count of quick clicks in one place) and clicks
 * within 600 ms of the last share the first click's id; any other click, or a key press
 * (`detail` 0), is a new intent.
 */
export function useClickIntent(): (event: MouseEvent) => string {
  const last = useRef<{ id: string; at: number } | undefined>(undefined);
  return (event) => {
    const now = event.timeStamp;
    const previous = last.current;
    const repeat = previous !== undefined && (event.detail > 1 || now - previous.at < SAME_GESTURE_MS);
    const id = repeat ? previous.id : newIntentId();
    last.current = { id, at: now };
    return id;
  };
}
