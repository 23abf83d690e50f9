// A data table that scrolls sideways on a phone instead of squeezing its columns, or, as `cards`,
// turns each row into a card there (its cells then name their column through `data-label`).
import type { ComponentChildren } from 'preact';

interface TableProps {
  caption: string;
  head: string[];
  cards?: boolean;
  children: ComponentChildren;
}

export function Table({ caption, head, cards, children }: TableProps) {
  return (
    <div class="table-wrap">
      <table class={cards ? 'cards' : undefined}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function EmptyRow({ columns, text }: { columns: number; text: string }) {
  return (
    <tr>
      <td colSpan={columns} class="muted">
        {text}
      </td>
    </tr>
  );
}
