/** HTML for per-token attributions: each word on a background whose colour is the sign (red positive, blue negative) and whose strength is |score| / scale. */

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** One sentence as coloured `<span>`s; the exact score shows on hover. */
export function colouredTokens(tokens: readonly string[], scores: readonly number[], scale: number): string {
  return tokens
    .map((token, i) => {
      const s = scores[i];
      const alpha = Math.min(1, Math.abs(s) / scale).toFixed(2);
      const colour = s >= 0 ? `rgba(214,39,40,${alpha})` : `rgba(31,119,180,${alpha})`;
      return `<span class="token" style="background:${colour}" title="${s.toFixed(3)}">${escape(token)}</span>`;
    })
    .join(' ');
}

/** CSS for {@link colouredTokens}. */
export const TOKEN_CSS = '.token{padding:2px 4px;border-radius:3px;line-height:2}';
