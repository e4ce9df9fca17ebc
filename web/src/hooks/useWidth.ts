/** An element's width in CSS pixels, followed as it changes: charts are drawn at the size they
 * are shown, so their text stays the size it says. */
import { useEffect, useRef, useState } from "react";

export function useWidth(params: { fallback: number; min?: number }) {
  const { fallback, min = 240 } = params;
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(min, Math.round(element.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [min]);
  return { ref, width };
}
