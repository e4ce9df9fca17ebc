/** Around a part of the app that loads on demand (a page, a chart, the wallet): a visible line
 * while its code loads, and a clear error, with a reload button, if it could not be loaded (the
 * network dropped and the offline shell did not hold it). */
import { Component, type ReactNode, Suspense } from "react";
import { errorMessage } from "../../../common/errors";

type Props = {
  /** What loads, for the messages: "this page", "the chart", "the wallet". */
  what: string;
  children: ReactNode;
  /** Shown while loading; by default a muted "Loading <what>…" line. */
  fallback?: ReactNode;
};

export function LazyBoundary({ what, children, fallback }: Props) {
  return (
    <LoadErrorBoundary what={what}>
      <Suspense
        fallback={
          fallback ?? (
            <p className="muted" role="status" data-testid="lazy-loading">
              Loading {what}…
            </p>
          )
        }
      >
        {children}
      </Suspense>
    </LoadErrorBoundary>
  );
}

class LoadErrorBoundary extends Component<{ what: string; children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: undefined };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override render() {
    if (this.state.error === undefined) return this.props.children;
    return (
      <p className="error" role="alert" data-testid="lazy-error">
        Could not load or show {this.props.what}: {errorMessage(this.state.error).replace(/\.$/, "")}.{" "}
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </p>
    );
  }
}
