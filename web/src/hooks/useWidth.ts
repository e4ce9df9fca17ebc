/** An element's width in CSS pixels, followed as it changes: charts are drawn at the size they
 * are shown, so their text stays the size it says. A callback ref, so an element that mounts
 * later (a chart whose data arrives after its first render) is measured too. */
import { useCallback, useEffect, useState } from "react";

export function useWidth(params: { fallback: number; min?: number }) {
  const { fallback, min = 240 } = params;
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const ref = useCallback((node: HTMLDivElement | null) => setElement(node), []);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    if (!element) return;
    const measure = () => setWidth(Math.max(min, Math.round(element.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [element, min]);
  return { ref, width };
}
