/** Contributions per UTC day: one bar per calendar day from the first contribution to today
 * (days without any drawn as a grey stub at zero), a y-axis in the chosen unit, and a date axis
 * with the year where it starts or changes. A day more than ten times the median day would
 * flatten the rest, so the scale then stops above the ordinary days and the towering days are
 * drawn broken at the top, their amounts named in the caption (see amountScale in chartScale.ts).
 * Amounts stay bigint: scale, ticks and bar heights are computed in wei. */
import { useApp } from "../appContext";
import { type DayPoint, MAX_CHART_DAYS, amountScale, amountTickLabel, barHeight, dayTicks, fillDays, formatDay } from "../chartScale";
import { useWidth } from "../hooks/useWidth";
import { LABEL, formatAmount } from "../units";
import "../charts.css";

type Day = { day: number; contributed: string; contributionCount: number };

const FONT = 12;
/** A generous width per character of 12 px text, to keep labels apart. */
const CHAR = 7.2;
const TOP = 26;
const PLOT = 170;
const BOTTOM = 30;
const RIGHT = 12;

function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

function contributions(count: number): string {
  return `${count} ${count === 1 ? "contribution" : "contributions"}`;
}

export function DailyChart({ days }: { days: Day[] }) {
  const { unit } = useApp();
  const { ref, width } = useWidth({ fallback: 600 });
  const today = Math.floor(Date.now() / 86_400_000);
  const filled = fillDays({ days, today });
  if (filled.length === 0) return <p className="muted">No contributions yet.</p>;

  const scale = amountScale(filled.map((d) => d.contributed));
  const unitLabel = LABEL[unit];
  const tickLabels = scale.ticks.map((t) => amountTickLabel(formatAmount(t, unit), unitLabel));
  const left = Math.ceil(Math.max(...tickLabels.map((l) => l.length)) * CHAR) + 14;
  const plot = width - left - RIGHT;
  const slot = plot / filled.length;
  const barWidth = Math.max(1, Math.min(40, slot * 0.72));
  const height = TOP + PLOT + BOTTOM;
  const y0 = TOP + PLOT;
  const y = (wei: bigint) => y0 - barHeight({ value: wei, scale, height: PLOT });
  const first = filled[0]!.day;
  const last = filled[filled.length - 1]!.day;
  const xTicks = dayTicks({ first, last, width: plot, labelWidth: "30 Dec 2026".length * CHAR + 12 });
  const centre = (day: number) => left + (day - first + 0.5) * slot;
  // A label sits under its day, moved in just enough to stay inside the chart.
  const labelX = (x: number, label: string) => {
    const half = (label.length * CHAR) / 2;
    return Math.min(Math.max(x, half + 4), width - half - 4);
  };
  const towering = filled.filter((d) => d.contributed > scale.top);
  const quiet = filled.filter((d) => d.contributed === 0n).length;
  const total = filled.reduce((sum, d) => sum + d.contributed, 0n);
  const range = `${formatDay(first, true)} to ${formatDay(last, true)}`;

  return (
    <div ref={ref} className="daily-chart-box">
      <svg
        className="daily-chart"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Contributions per UTC day, ${range}: ${formatAmount(total, unit)} over ${filled.length} days, ${quiet} of them without contributions.`}
        data-testid="daily-chart"
        data-days={filled.length}
        data-first={isoDay(first)}
        data-last={isoDay(last)}
        data-top={scale.top.toString()}
      >
        <text className="axis-title" x={left} y={TOP - 10} data-testid="daily-y-unit" style={{ fontSize: FONT }}>
          {unitLabel} per day
        </text>
        {scale.ticks.map((tick, i) => (
          <g key={tick.toString()} className="tick">
            <line className="grid" x1={left} x2={width - RIGHT} y1={y(tick)} y2={y(tick)} />
            <text x={left - 6} y={y(tick) + 4} textAnchor="end" data-testid="daily-y-tick" data-wei={tick.toString()}>
              {tickLabels[i]}
            </text>
          </g>
        ))}
        <line className="axis" x1={left} x2={left} y1={TOP} y2={y0} />
        <line className="axis" x1={left} x2={width - RIGHT} y1={y0} y2={y0} />
        {filled.map((d) => (
          <DayBar key={d.day} d={d} x={centre(d.day) - barWidth / 2} barWidth={barWidth} slot={slot} y0={y0} y={y(d.contributed)} broken={d.contributed > scale.top} text={`${formatDay(d.day, true)}: ${formatAmount(d.contributed, unit)} in ${contributions(d.contributionCount)}`} />
        ))}
        {xTicks.map((t) => (
          <g key={t.day}>
            <line className="axis" x1={centre(t.day)} x2={centre(t.day)} y1={y0} y2={y0 + 4} />
            <text x={labelX(centre(t.day), t.label)} y={y0 + 18} textAnchor="middle" data-testid="daily-x-tick" data-day={isoDay(t.day)}>
              {t.label}
            </text>
          </g>
        ))}
      </svg>
      <p className="muted small chart-caption" data-testid="daily-caption">
        Per UTC day, {range}: {filled.length} {filled.length === 1 ? "day" : "days"}
        {quiet > 0 ? `, ${quiet} without contributions (grey at zero)` : ""}
        {filled.length === MAX_CHART_DAYS ? ` (the newest ${MAX_CHART_DAYS} days)` : ""}.
      </p>
      {scale.clip ? (
        <p className="muted small chart-caption" data-testid="daily-clip-note">
          The scale stops at {formatAmount(scale.top, unit)} so that ordinary days stay visible;{" "}
          {scale.clip.count === 1 ? "one day above it is" : `${scale.clip.count} days above it are`} drawn broken at the top:{" "}
          {towering
            .slice(0, 3)
            .map((d) => `${formatDay(d.day, true)} ${formatAmount(d.contributed, unit)}`)
            .join(", ")}
          {towering.length > 3 ? ` and ${towering.length - 3} more (up to ${formatAmount(scale.clip.max, unit)})` : ""}.
        </p>
      ) : null}
    </div>
  );
}

function DayBar(props: { d: DayPoint; x: number; barWidth: number; slot: number; y0: number; y: number; broken: boolean; text: string }) {
  const { d, x, barWidth, y0, y, broken } = props;
  const zero = d.contributed === 0n;
  return (
    <g className="day" data-testid="daily-bar" data-day={isoDay(d.day)} data-wei={d.contributed.toString()} data-count={d.contributionCount} data-broken={broken ? "yes" : undefined}>
      <title>{props.text}</title>
      {/* The whole slot answers a pointer, so a zero or thin day can be hovered too. */}
      <rect className="hit" x={x - (props.slot - barWidth) / 2} y={TOP} width={props.slot} height={y0 - TOP} />
      {zero ? (
        <rect className="bar-zero" x={x} y={y0 - 3} width={barWidth} height={3} />
      ) : (
        <rect className="bar" x={x} y={y} width={barWidth} height={y0 - y} />
      )}
      {broken ? <path className="bar-break" d={`M${x - 1},${y + 14} l${barWidth + 2},-6 v5 l${-barWidth - 2},6 z`} /> : null}
    </g>
  );
}
