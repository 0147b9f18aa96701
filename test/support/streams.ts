/** Reading a streamed HTTP answer partway, as a client that leaves mid-stream does. */

/**
 * Reads `res`'s body until `pattern` (a global regexp) matched `n` times in it, or it ended. Returns `leave()`, which
 * cancels the body (the client going away).
 */
export async function readUntilMatches(res: Response, pattern: RegExp, n: number): Promise<() => Promise<void>> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while ((text.match(pattern) ?? []).length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return () => reader.cancel();
}
