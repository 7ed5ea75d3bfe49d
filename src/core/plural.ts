/** `1 warning`, `2 warnings`, `0 rows`: a count with its noun, in every line people read. */
export function plural(count: number, noun: string, nounPlural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nounPlural}`;
}
