/** The review dialog, loaded when a review first opens: its chain reads (viem's public client,
 * fee estimates) stay out of the first screen's bundle. Same props as ReviewDialog. */
import { lazy } from "react";
import { LazyBoundary } from "./LazyBoundary";
import type { ReviewDialogProps } from "./ReviewDialog";

export type { Review } from "./ReviewDialog";

const Dialog = lazy(() => import("./ReviewDialog").then((m) => ({ default: m.ReviewDialog })));

export function ReviewDialog(props: ReviewDialogProps) {
  return (
    <LazyBoundary what="the review" fallback={<p className="muted" role="status" data-testid="review-loading">Loading the review…</p>}>
      <Dialog {...props} />
    </LazyBoundary>
  );
}
