// A bar chart per day on uPlot (canvas). The figure carries a text summary for screen readers;
// every chart on the console has the same numbers in a table next to it.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface DayPoint {
  /** YYYY-MM-DD (UTC). */
  day: string;
  value: number;
}

interface DayChartProps {
  title: string;
  points: DayPoint[];
  format: (value: number) => string;
}

const HEIGHT = 220;
const DAY = 86_400;
const HALF_DAY = DAY / 2;
/** Axis ticks fall on whole days only. */
const DAY_STEPS = [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

const daySeconds = (day: string): number => Date.parse(`${day}T00:00:00Z`) / 1000;

export function DayChart({ title, points, format }: DayChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const pointsKey = JSON.stringify(points);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [points.map((p) => daySeconds(p.day)), points.map((p) => p.value)];
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 240),
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: true, drag: { x: false, y: false } },
        scales: {
          // Half a day either side, so the first and last bars are whole.
          x: { time: true, range: (_u, min, max) => [min - HALF_DAY, max + HALF_DAY] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        axes: [
          { stroke: '#333', space: 48, incrs: DAY_STEPS, values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) },
          { stroke: '#333', size: 80, values: (_u, ticks) => ticks.map((t) => format(t)) },
        ],
        series: [{}, { label: title, stroke: '#0b5cad', fill: 'rgba(11, 92, 173, 0.35)', width: 1, paths: uPlot.paths.bars?.({ size: [0.7, 40] }) }],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 240), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
    // Redrawn when the numbers change, not each time a parent renders a fresh array of them.
  }, [pointsKey, title, format]);
  return (
    <figure class="chart" role="img" aria-label={summary(title, points, format)}>
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-canvas" />
    </figure>
  );
}

/** "Spend per day: 3 days, latest 2026-12-03 $0.0123, highest …". */
export function summary(title: string, points: DayPoint[], format: (value: number) => string): string {
  const last = points.at(-1);
  if (!last) return `${title}: no data`;
  const highest = points.reduce((a, b) => (b.value > a.value ? b : a));
  return `${title}: ${points.length} days, latest ${last.day} ${format(last.value)}, highest ${highest.day} ${format(highest.value)}`;
}
