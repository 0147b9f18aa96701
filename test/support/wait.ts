/**
 * The one way tests wait: poll a positive signal (a version served, a counter reached, a condition written) until
 * it holds, with a deadline that only bounds a failing test. Never a fixed sleep to prove that nothing happened.
 */

/**
 * Polls `check` every `intervalMs` until it returns true; rejects after `timeoutMs` naming `what` (the message a
 * failing test shows). A throwing check fails at once.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
  intervalMs = 10,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
