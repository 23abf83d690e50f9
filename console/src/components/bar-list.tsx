// Horizontal bars for a handful of named values (spend per model): each bar's length is its share
// of the largest, and the number is written beside it, so the bars are only a visual aid.
export interface NamedValue {
  name: string;
  value: number;
}

interface BarListProps {
  title: string;
  items: NamedValue[];
  format: (value: number) => string;
}

export function BarList({ title, items, format }: BarListProps) {
  const max = Math.max(0, ...items.map((i) => i.value));
  return (
    <figure class="bar-list">
      <figcaption>{title}</figcaption>
      {items.length === 0 && <p class="muted">No data yet.</p>}
      <ul>
        {items.map((item) => (
          <li key={item.name}>
            <span class="bar-label">{item.name}</span>
            <span class="bar-track" aria-hidden="true">
              <span class="bar-fill" style={{ width: `${max > 0 ? (item.value / max) * 100 : 0}%` }} />
            </span>
            <span class="bar-value">{format(item.value)}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
