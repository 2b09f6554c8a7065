// Line and point charts on uPlot (small, fast, no network): training curves, overlaid runs and the
// advisor's accuracy × QPS points. Each series keeps its own x values; uPlot.join aligns them.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  x: number[];
  y: number[];
}

export interface ChartProps {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Points only (a scatter): the advisor's candidates. */
  points?: boolean;
  logX?: boolean;
  height?: number;
  testId?: string;
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

function sorted(s: Series): [number[], number[]] {
  const idx = s.x.map((_, i) => i).sort((a, b) => s.x[a] - s.x[b]);
  return [idx.map((i) => s.x[i]), idx.map((i) => s.y[i])];
}

export function CurveChart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const nonEmpty = props.series.filter((s) => s.x.length > 0);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    plot.current?.destroy();
    plot.current = null;
    if (nonEmpty.length === 0) return;
    const data = uPlot.join(nonEmpty.map((s) => sorted(s) as uPlot.AlignedData));
    const width = Math.max(280, el.clientWidth || 560);
    const opts: uPlot.Options = {
      title: props.title,
      width,
      height: props.height ?? 240,
      scales: { x: { time: false, distr: props.logX ? 3 : 1 } },
      // The legend names the series; live cursor values would only add noise to a small chart.
      legend: { live: false },
      axes: [{ label: props.xLabel }, { label: props.yLabel }],
      series: [
        { label: props.xLabel },
        ...nonEmpty.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          spanGaps: true,
          points: {
            show: props.points || s.x.length < 3,
            size: props.points ? 10 : 6,
            fill: COLORS[i % COLORS.length],
          },
          ...(props.points ? { paths: () => null } : {}),
        })),
      ],
    };
    plot.current = new uPlot(opts, data, el);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [JSON.stringify(nonEmpty), props.title, props.xLabel, props.yLabel, props.points, props.logX]);

  const points = nonEmpty.reduce((n, s) => n + s.x.length, 0);
  return (
    <figure class="chart" data-testid={props.testId} data-points={points} aria-label={props.title}>
      <div ref={box} />
      {nonEmpty.length === 0 && <p class="muted">{props.title}: —</p>}
    </figure>
  );
}
