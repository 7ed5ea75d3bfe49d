/** `text` as a regular-expression source that matches it literally (a Call-ID holds dots, `@`, `+`). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
