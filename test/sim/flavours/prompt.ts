/** Request-reading helpers shared by the flavours: safe field access and the canonical prompt text. */

/** A JSON object. */
export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text of an OpenAI/Ollama/Anthropic message content: a string or an array of parts (non-text parts as `[type]`). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let s = '';
  for (const part of content) {
    if (typeof part === 'string') s += part;
    else if (isRecord(part)) {
      if (typeof part.text === 'string') s += part.text;
      else if (part.type === 'tool_result') s += contentText(part.content);
      else if (part.type === 'tool_use') s += JSON.stringify(part.input ?? {});
      else s += `[${String(part.type ?? 'part')}]`;
    }
  }
  return s;
}

/**
 * Canonical prompt of a chat request, as a chat template would lay it out: tool definitions first, then one
 * `role: text` line per message (tool calls of assistant messages appended as JSON). Stable prefixes (system prompt,
 * tools, earlier turns) give stable leading blocks, which is what the prefix cache keys on.
 */
export function chatPrompt(messages: readonly unknown[], tools: unknown, system?: string): string {
  let s = Array.isArray(tools) && tools.length > 0 ? `tools: ${JSON.stringify(tools)}\n` : '';
  if (system) s += `system: ${system}\n`;
  for (const m of messages) {
    if (!isRecord(m)) continue;
    s += `${String(m.role)}: ${contentText(m.content)}`;
    if (m.tool_calls !== undefined) s += JSON.stringify(m.tool_calls);
    s += '\n';
  }
  return s;
}

/** `stop` as a list (string or string[]; anything else → empty). */
export function stopList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** Whether `v` is absent or a positive integer; for max-token fields. */
export function isOptionalPositiveInt(v: unknown): boolean {
  return v === undefined || v === null || (Number.isInteger(v) && (v as number) >= 1);
}
