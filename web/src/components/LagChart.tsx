/** Lag over the last hour (or since the indexer started, if sooner): two small charts sharing
 * a clock axis (UTC), blocks above and seconds below, each with its own labelled y-axis from zero. A
 * start-up spike does not flatten the rest: the scale follows the 95th percentile and the points
 * above it are drawn at the top and marked (see chartScale.ts). Drawn at the size it is shown,
 * so its text stays readable on a phone. */
import type { SyncHealth } from "../../../common/ops-api";
import { type ChartScale, chartScale, formatSeconds, timeTicks } from "../chartScale";
import { useWidth } from "../hooks/useWidth";
import "../charts.css";

type Sample = SyncHealth["lagHistory"][number];

const LEFT = 52;
const RIGHT = 8;
const PANEL = 92;
const TITLE = 16;
const GAP = 10;
const AXIS = 36;

export function LagChart({ samples, asOf }: { samples: Sample[]; asOf?: string }) {
  const { ref, width } = useWidth({ fallback: 600 });
  if (samples.length === 0) return <p className="muted" data-testid="lag-chart-empty">No samples yet.</p>;
  const times = samples.map((s) => Date.parse(s.at));
  const start = times[0]!;
  const end = times[times.length - 1]!;
  const plot = width - LEFT - RIGHT;
  const x = (t: number) => LEFT + ((t - start) / Math.max(1, end - start)) * plot;
  const span = end - start;
  const height = 2 * (TITLE + PANEL) + GAP + AXIS;
  const panels: { key: "blocks" | "seconds"; title: string; format: (v: number) => string }[] = [
    { key: "blocks", title: "Lag in blocks", format: (v) => v.toLocaleString("en-US") },
    { key: "seconds", title: "Lag in seconds", format: formatSeconds },
  ];
  const notes = panels.flatMap((panel) => {
    const clip = chartScale(samples.map((s) => s[panel.key])).clip;
    return clip
      ? [
          `${panel.title}: the scale stops at the ${clip.percentile}th percentile (${panel.format(clip.at)}); ` +
            `${clip.count} ${clip.count === 1 ? "point" : "points"} above it, up to ${panel.format(clip.max)}, are drawn at the top as ▲.`,
        ]
      : [];
  });
  return (
    <div ref={ref} className="lag-chart-box">
      <svg
        className="lag-chart"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label="Lag over the last hour, in blocks and in seconds"
        data-testid="lag-chart"
        data-samples={samples.length}
      >
        {panels.map((panel, i) => {
          const values = samples.map((s) => s[panel.key]);
          return (
            <Panel
              key={panel.key}
              series={panel.key}
              title={panel.title}
              format={panel.format}
              values={values}
              scale={chartScale(values)}
              xs={times.map(x)}
              top={i * (TITLE + PANEL + GAP)}
              width={width}
            />
          );
        })}
        <g data-testid="lag-time-axis">
          <line className="axis" x1={LEFT} x2={width - RIGHT} y1={height - AXIS} y2={height - AXIS} />
          {timeTicks({ start, end, maxTicks: Math.max(2, Math.floor(plot / 56)) }).map((tick) => (
            <g key={tick.at}>
              <line className="x-tick" x1={x(tick.at)} x2={x(tick.at)} y1={height - AXIS} y2={height - AXIS + 4} />
              <text x={x(tick.at)} y={height - AXIS + 16} textAnchor="middle" data-testid="lag-time-tick">
                {tick.label}
              </text>
            </g>
          ))}
          <text x={LEFT} y={height - 3}>
            time (UTC) · last {span >= 60_000 ? `${Math.round(span / 60_000)} min` : `${Math.round(span / 1000)} s`}
          </text>
          <text x={width - RIGHT} y={height - 3} textAnchor="end">
            {asOf ?? "now"} · {samples.length} samples
          </text>
        </g>
      </svg>
      {notes.map((note) => (
        <p key={note} className="muted small" data-testid="lag-clip-note">
          {note}
        </p>
      ))}
      <p className="muted small">Seconds: how far the last indexed block's time is behind the chain head's.</p>
    </div>
  );
}

function Panel(props: {
  series: "blocks" | "seconds";
  title: string;
  format: (value: number) => string;
  values: number[];
  scale: ChartScale;
  xs: number[];
  top: number;
  width: number;
}) {
  const { scale, values, xs } = props;
  const y0 = props.top + TITLE + PANEL;
  const y = (value: number) => y0 - (Math.min(value, scale.top) / scale.top) * (PANEL - 4);
  const points = values.map((v, i) => `${xs[i]!.toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const clip = scale.clip;
  return (
    <g className={`lag-panel lag-panel-${props.series}`} data-testid={`lag-panel-${props.series}`} data-top={scale.top} data-clipped={clip ? clip.count : 0}>
      <text x={LEFT} y={props.top + 11} className={`legend-${props.series}`}>
        {props.title}
        {clip ? " · scale clipped (▲ above it)" : ""}
      </text>
      {scale.ticks.map((tick) => (
        <g key={tick} className="tick">
          <line className="grid" x1={LEFT} x2={props.width - RIGHT} y1={y(tick)} y2={y(tick)} />
          <text x={LEFT - 6} y={y(tick) + 4} textAnchor="end" data-testid="lag-y-tick">
            {props.format(tick)}
          </text>
        </g>
      ))}
      <line className="axis" x1={LEFT} x2={LEFT} y1={props.top + TITLE} y2={y0} />
      <polyline className={`lag-${props.series}`} points={points} />
      {clip
        ? values.map((v, i) =>
            v > scale.top ? (
              <path key={i} className="clipped" d={`M${xs[i]!.toFixed(1)},${(y(v) - 1).toFixed(1)} l-4,7 h8 z`}>
                <title>{props.format(v)} (above the scale)</title>
              </path>
            ) : null,
          )
        : null}
    </g>
  );
}
