/**
 * Canonical chat requests → Ollama `/api/chat` (an OpenAI or Anthropic client served by an Ollama upstream).
 * Ollama has no tool_choice: `none` sends no tools, `auto` is the default, `required`/named get a 400. Images must be
 * inline (Ollama takes bare base64). Tool results name their tool (`tool_name`) instead of a call id.
 * `reasoning_effort` becomes `think` (`none` off, any other level on: Ollama's levels are gpt-oss's alone), an
 * earlier assistant turn's reasoning its `thinking`.
 */
import type { ChatMessage, ChatRequest } from '../canonical/chat.js';
import { turnReasoning } from '../canonical/reasoning.js';
import { parseDataUrl } from '../common/images.js';
import { isRecord, parseArguments, refuseUnknownFields, refuseUnlessDefault, untranslatable } from '../common/json.js';
import { ollamaOptionsFromSampling } from './options.js';
import type { OllamaChatRequest, OllamaMessage } from './schemas.js';

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
  'reasoning_effort',
]);

/** Bare base64 for Ollama's `images` from an OpenAI image URL; Ollama takes no remote URLs. */
function base64OfImageUrl(url: string, param: string): string {
  const d = parseDataUrl(url);
  if (d) return d.data;
  throw untranslatable(param, 'Ollama accepts only inline (base64 data URL) images, not remote URLs');
}

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

function convertMessages(messages: readonly ChatMessage[]): OllamaMessage[] {
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
      const thought = turnReasoning(m);
      if (thought) out.thinking = thought.text;
      if (m.tool_calls?.length)
        out.tool_calls = m.tool_calls.map((c, j) => {
          if (!c.function)
            throw untranslatable(`messages[${i}].tool_calls[${j}].type`, 'only function tool calls can be translated');
          if (c.id !== undefined) names.set(c.id, c.function.name);
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
export function ollamaChatFromChat(req: ChatRequest, model: string, stream: boolean): OllamaChatRequest {
  refuseUnknownFields(req, HANDLED, 'is not supported by Ollama upstreams');
  refuseUnlessDefault(req, 'n', 'Ollama returns one choice per request', [1]);
  refuseUnlessDefault(req, 'logprobs', 'Ollama does not return log probabilities', [false]);
  refuseUnlessDefault(req, 'parallel_tool_calls', 'Ollama cannot limit parallel tool calls', [true]);
  const choice = req.tool_choice;
  if (choice !== undefined && choice !== 'auto' && choice !== 'none')
    throw untranslatable('tool_choice', 'Ollama cannot force a tool call (only auto or none)');
  const out: OllamaChatRequest = { model, messages: convertMessages(req.messages), stream };
  if (req.reasoning_effort) out.think = req.reasoning_effort !== 'none';
  if (req.tools?.length && choice !== 'none')
    out.tools = req.tools.map((t, i) => {
      if (!t.function) throw untranslatable(`tools[${i}].type`, `tool type '${t.type}' cannot be translated`);
      return { ...t, function: t.function };
    });
  const options = ollamaOptionsFromSampling(req);
  if (Object.keys(options).length) out.options = options;
  const rf = req.response_format;
  if (rf?.type === 'json_object') out.format = 'json';
  else if (rf?.type === 'json_schema' && isRecord(rf.json_schema) && isRecord(rf.json_schema.schema))
    out.format = rf.json_schema.schema;
  else if (rf && rf.type !== 'text') throw untranslatable('response_format', 'has no Ollama equivalent');
  return out;
}
