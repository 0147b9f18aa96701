/**
 * Canonical chat requests → Ollama `/api/chat` (an OpenAI or Anthropic client served by an Ollama upstream).
 * Ollama has no tool_choice: `none` sends no tools, `auto` is the default, `required`/named get a 400. Images must be
 * inline (Ollama takes bare base64). Tool results name their tool (`tool_name`) instead of a call id.
 */
import { isRecord, type Json, parseArguments, refuseUnlessDefault, untranslatable } from './common.js';
import { base64OfImageUrl } from './images.js';
import { ollamaOptionsFromSampling } from './ollama-options.js';
import type { OllamaChatRequest, OllamaMessage } from './ollama-types.js';
import type { ChatMessage, ChatRequest } from './openai-types.js';

const HANDLED = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'stream',
  'stream_options',
  'response_format',
  'n',
  'logprobs',
  'user',
  'store',
  'metadata',
  'service_tier',
  'parallel_tool_calls',
]);

function text(content: ChatMessage['content'], param: string): { text: string; images: string[] } {
  if (content == null) return { text: '', images: [] };
  if (typeof content === 'string') return { text: content, images: [] };
  let t = '';
  const images: string[] = [];
  content.forEach((p, j) => {
    if (p.type === 'text' && typeof p.text === 'string') t += p.text;
    else if (p.type === 'image_url' && isRecord(p.image_url) && typeof p.image_url.url === 'string')
      images.push(base64OfImageUrl(p.image_url.url, `${param}[${j}].image_url.url`));
    else throw untranslatable(`${param}[${j}].type`, `content part '${p.type}' cannot be sent to an Ollama upstream`);
  });
  return { text: t, images };
}

function convertMessages(messages: ChatMessage[]): OllamaMessage[] {
  const names = new Map<string, string>();
  return messages.map((m, i): OllamaMessage => {
    const { text: content, images } = text(m.content, `messages[${i}].content`);
    const withImages = images.length ? { images } : {};
    if (m.role === 'system' || m.role === 'developer') return { role: 'system', content, ...withImages };
    if (m.role === 'user') return { role: 'user', content, ...withImages };
    if (images.length)
      throw untranslatable(`messages[${i}].content`, `Ollama takes images in user and system messages only`);
    if (m.role === 'assistant') {
      const out: OllamaMessage = { role: 'assistant', content };
      if (m.tool_calls?.length)
        out.tool_calls = m.tool_calls.map((c, j) => {
          names.set(c.id, c.function.name);
          const args = parseArguments(c.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`);
          return { function: { name: c.function.name, arguments: args } };
        });
      return out;
    }
    if (m.role === 'tool') {
      const name = m.tool_call_id !== undefined ? names.get(m.tool_call_id) : undefined;
      return { role: 'tool', content, ...(name ? { tool_name: name } : {}) };
    }
    throw untranslatable(`messages[${i}].role`, `role '${m.role}' cannot be sent to an Ollama upstream`);
  });
}

/** Translates `req` for `/api/chat`; `model` is the upstream model name. */
export function ollamaChatFromOpenAI(req: ChatRequest, model: string, stream: boolean): OllamaChatRequest {
  const body = req as Json;
  for (const k of Object.keys(body))
    if (!HANDLED.has(k) && body[k] !== undefined && body[k] !== null)
      throw untranslatable(k, 'is not supported by Ollama upstreams');
  refuseUnlessDefault(body, 'n', 'Ollama returns one choice per request', [1]);
  refuseUnlessDefault(body, 'logprobs', 'Ollama does not return log probabilities', [false]);
  refuseUnlessDefault(body, 'parallel_tool_calls', 'Ollama cannot limit parallel tool calls', [true]);
  const choice = req.tool_choice;
  if (choice !== undefined && choice !== 'auto' && choice !== 'none')
    throw untranslatable('tool_choice', 'Ollama cannot force a tool call (only auto or none)');
  const out: OllamaChatRequest = { model, messages: convertMessages(req.messages), stream };
  if (req.tools?.length && choice !== 'none') out.tools = req.tools;
  const options = ollamaOptionsFromSampling(body);
  if (Object.keys(options).length) out.options = options;
  const rf = req.response_format;
  if (isRecord(rf) && rf.type === 'json_object') out.format = 'json';
  else if (isRecord(rf) && rf.type === 'json_schema' && isRecord(rf.json_schema) && isRecord(rf.json_schema.schema))
    out.format = rf.json_schema.schema;
  else if (isRecord(rf) && rf.type !== 'text') throw untranslatable('response_format', 'has no Ollama equivalent');
  return out;
}
