/**
 * Durations: `P[nW][nD][T[nH][nM][nS]]` or the bare `[nH][nM][nS]` the
 * anchors' examples use (`10H`), case-insensitive (OpenSIPS
 * `ic_parse_duration`, time_rec.c:796-900). OpenSIPS returns 0 for a
 * malformed duration (a window that never opens on 3.2, "forever" on 3.1);
 * here it is an error.
 */

export const DURATION_SHAPE = 'P[nW][nD][T[nH][nM][nS]] or [nH][nM][nS]';

const WITH_P = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i;
const BARE = /^(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/i;

/** Beyond this a duration is a typo, and seconds would lose precision as milliseconds. */
const MAX_SECONDS = 200 * 366 * 86_400;

/** Seconds of a duration (0 allowed), or why the text is not one. */
export function parseDuration(text: string): { ok: true; seconds: number } | { ok: false; error: string } {
  const bad = { ok: false as const, error: `expected a duration ${DURATION_SHAPE}, e.g. PT8H30M, P1D or 10H` };
  let parts: (string | undefined)[];
  const withP = WITH_P.exec(text);
  if (withP) {
    // "PT" alone, or "P1DT", names no time part after T.
    if (/T$/i.test(text)) return bad;
    parts = withP.slice(1);
  } else {
    const bare = BARE.exec(text);
    if (!bare) return bad;
    // No weeks or days in the bare form.
    parts = [undefined, undefined, ...bare.slice(1)];
  }
  const [weeks = '', days = '', hours = '', minutes = '', seconds = ''] = parts;
  if (weeks + days + hours + minutes + seconds === '') return bad;
  const total =
    Number(weeks || 0) * 604_800 +
    Number(days || 0) * 86_400 +
    Number(hours || 0) * 3_600 +
    Number(minutes || 0) * 60 +
    Number(seconds || 0);
  if (total > MAX_SECONDS) return { ok: false, error: `duration ${text} is longer than 200 years` };
  return { ok: true, seconds: total };
}
