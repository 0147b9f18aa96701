/**
 * Round trips: a conversation with a system prompt, images (inline and URL), text plus two tool calls in one turn
 * and their results, translated OpenAI → Anthropic → OpenAI and Anthropic → OpenAI → Anthropic, equals the
 * original; answers likewise. Also the refusals of what cannot be expressed.
 */
import { describe, expect, it } from 'vitest';
import { anthropicRequestFromChat } from './anthropic/request-from-chat.js';
import { chatRequestFromAnthropic } from './anthropic/request-to-chat.js';
import { anthropicAnswerFromChat, chatResponseFromAnthropic } from './anthropic/response.js';
import { messageAnswer, messagesRequest } from './anthropic/schemas.js';
import { chatRequest, chatResponse } from './canonical/chat.js';
import { ollamaChatFromChat } from './ollama/request-from-chat.js';
import { chatRequestFromOllamaChat } from './ollama/request-to-chat.js';
import { ollamaChatRequest } from './ollama/schemas.js';
import { reasoningForOpenAI } from './openai/upstream-reasoning.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BAAAMBAQAY3Y2wAAAAAElFTkSuQmCC';
/** An OpenAI content part carrying PNG inline. */
const inlineImage = { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } };
/** An OpenAI assistant turn's two tool calls (get_weather, get_time) with the ids given. */
const weatherAndTimeCalls = (weatherId: string, timeId: string) => [
  { id: weatherId, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
  { id: timeId, type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } },
];
/** An Anthropic assistant turn: text and the same two tool calls as tool_use blocks. */
const checkingWithToolUses = [
  { type: 'text', text: 'Checking.' },
  { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
  { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: { zone: 'CET' } },
];

const openAIConversation = chatRequest.parse({
  model: 'm',
  messages: [
    { role: 'system', content: 'You are terse.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these, and the weather there?' },
        inlineImage,
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      ],
    },
    {
      role: 'assistant',
      content: 'Let me look.',
      tool_calls: weatherAndTimeCalls('call_1', 'call_2'),
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    { role: 'tool', tool_call_id: 'call_2', content: '12:00' },
    { role: 'user', content: 'Thanks' },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    },
    {
      type: 'function',
      function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
    },
  ],
  tool_choice: { type: 'function', function: { name: 'get_weather' } },
  parallel_tool_calls: false,
  max_tokens: 300,
  temperature: 0.5,
  top_p: 0.9,
  stop: ['END', 'STOP'],
  stream: true,
  user: 'u-1',
});

const anthropicConversation = messagesRequest.parse({
  model: 'm',
  system: 'You are terse.',
  max_tokens: 300,
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      ],
    },
    { role: 'assistant', content: checkingWithToolUses },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '12:00' }] },
        { type: 'text', text: 'And tomorrow?' },
      ],
    },
  ],
  tools: [
    {
      name: 'get_weather',
      description: 'Weather',
      input_schema: { type: 'object', properties: { city: { type: 'string' } } },
    },
  ],
  tool_choice: { type: 'any', disable_parallel_tool_use: true },
  stop_sequences: ['END'],
  temperature: 0.3,
  top_k: 40,
  stream: true,
  metadata: { user_id: 'u-1' },
});

describe('request round trips', () => {
  it('OpenAI → Anthropic → OpenAI equals the original', () => {
    const anthropic = anthropicRequestFromChat(openAIConversation, 'm');
    expect(anthropic.system).toBe('You are terse.');
    expect(anthropic.messages[2]?.content).toHaveLength(2);
    expect(anthropic.tool_choice).toEqual({ type: 'tool', name: 'get_weather', disable_parallel_tool_use: true });
    expect(chatRequestFromAnthropic(anthropic, 'm')).toEqual(openAIConversation);
  });

  it('Anthropic → OpenAI → Anthropic equals the original', () => {
    const openai = chatRequestFromAnthropic(anthropicConversation, 'm');
    expect(openai.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'user']);
    expect(anthropicRequestFromChat(openai, 'm')).toEqual(anthropicConversation);
  });

  it('OpenAI → Ollama → OpenAI keeps roles, inline images, tool calls and results', () => {
    const req = chatRequest.parse({
      model: 'm',
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'user',
          content: [{ type: 'text', text: 'Look' }, inlineImage],
        },
        { role: 'assistant', content: null, tool_calls: weatherAndTimeCalls('call_0', 'call_1') },
        { role: 'tool', tool_call_id: 'call_0', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_1', content: '12:00' },
      ],
      max_tokens: 30,
      temperature: 0.5,
    });
    const ollama = ollamaChatFromChat(req, 'm', false);
    expect(ollama.messages[1]).toEqual({ role: 'user', content: 'Look', images: [PNG] });
    expect(ollama.messages[3]).toEqual({ role: 'tool', content: 'sunny', tool_name: 'get_weather' });
    expect(ollama.options).toEqual({ temperature: 0.5, num_predict: 30 });
    expect(chatRequestFromOllamaChat(ollama, 'm')).toEqual({ ...req, messages: req.messages });
  });
});

describe('answer round trips', () => {
  it('Anthropic message → chat completion → Anthropic message keeps content, stop reason and usage', () => {
    const msg = messageAnswer.parse({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: checkingWithToolUses,
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 50, output_tokens: 20 },
    });
    const chat = chatResponseFromAnthropic(msg, 'm');
    expect(chat.body.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chat.body.usage).toEqual({
      prompt_tokens: 150,
      completion_tokens: 20,
      total_tokens: 170,
      prompt_tokens_details: { cached_tokens: 50 },
    });
    expect(chat.usage).toEqual({ inputTokens: 150, outputTokens: 20, cachedInputTokens: 50 });
    expect(anthropicAnswerFromChat(chat.body, 'm')).toEqual(msg);
  });

  it('maps stop reasons both ways', () => {
    const base = { id: 'x', object: 'chat.completion' as const, created: 0, model: 'm' };
    const one = (finish: 'stop' | 'length', extra = {}) =>
      anthropicAnswerFromChat(
        chatResponse.parse({
          ...base,
          choices: [{ index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: finish, ...extra }],
        }),
        'm',
      );
    expect(one('stop').stop_reason).toBe('end_turn');
    expect(one('length').stop_reason).toBe('max_tokens');
    expect(one('stop', { stop_reason: 'END' })).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
  });
});

describe('refusals', () => {
  const user = [{ role: 'user' as const, content: 'hi' }];
  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ temperature: 1.5 }, 'temperature'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
    [{ logit_bias: { 1: 2 } }, 'logit_bias'],
    [
      { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] },
      'messages[0].content[0].type',
    ],
    [
      {
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 'not json' } }],
          },
        ],
      },
      'messages[0].tool_calls[0].function.arguments',
    ],
  ])('OpenAI → Anthropic refuses %j naming %s', (extra, param) => {
    const req = chatRequest.parse({ model: 'm', messages: user, ...extra });
    expect(() => anthropicRequestFromChat(req, 'm')).toThrow(expect.objectContaining({ status: 400, param }));
  });

  it.each([
    [{ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools.0.type'],
    [{ messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }, 'messages.0.content.0.type'],
    [{ mcp_servers: [{}] }, 'mcp_servers'],
  ])('Anthropic → OpenAI refuses %j naming %s', (extra, param) => {
    const req = messagesRequest.parse({ model: 'm', max_tokens: 5, messages: user, ...extra });
    expect(() => chatRequestFromAnthropic(req, 'm')).toThrow(expect.objectContaining({ status: 400, param }));
  });

  it('OpenAI → Ollama refuses forced tool choice and remote images', () => {
    expect(() => ollamaChatFromChat({ model: 'm', messages: user, tool_choice: 'required' }, 'm', false)).toThrow(
      expect.objectContaining({ param: 'tool_choice' }),
    );
    const remote = [{ role: 'user' as const, content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }];
    expect(() => ollamaChatFromChat({ model: 'm', messages: remote }, 'm', false)).toThrow(
      expect.objectContaining({ param: 'messages[0].content[0].image_url.url' }),
    );
  });

  it('never drops an image: OpenAI → Ollama refuses images outside user/system messages', () => {
    const messages = [
      { role: 'user', content: 'look' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'shot', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: [inlineImage] },
    ];
    expect(() => ollamaChatFromChat(chatRequest.parse({ model: 'm', messages }), 'm', false)).toThrow(
      expect.objectContaining({ status: 400, param: 'messages[2].content' }),
    );
  });

  it.each([
    ['system', [{ role: 'system', content: 'see', images: [PNG] }]],
    [
      'tool',
      [
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'shot', arguments: {} } }] },
        { role: 'tool', content: 'here', tool_name: 'shot', images: [PNG] },
      ],
    ],
  ])('never drops an image: Ollama → OpenAI refuses images on a %s message', (role, messages) => {
    const param = role === 'system' ? 'messages[0].images' : 'messages[1].images';
    const req = ollamaChatRequest.parse({ model: 'm', messages });
    expect(() => chatRequestFromOllamaChat(req, 'm')).toThrow(expect.objectContaining({ status: 400, param }));
  });
});

describe('tool errors', () => {
  it('Anthropic → OpenAI marks a tool_result with is_error in the tool message text', () => {
    const req = messagesRequest.parse({
      model: 'm',
      max_tokens: 5,
      messages: [
        { role: 'user', content: 'run it' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'run', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'exit status 2', is_error: true },
            {
              type: 'tool_result',
              tool_use_id: 't2',
              content: [{ type: 'text', text: 'no such file' }],
              is_error: true,
            },
            { type: 'tool_result', tool_use_id: 't3', content: 'fine' },
          ],
        },
      ],
    });
    const tools = chatRequestFromAnthropic(req, 'm').messages.filter((m) => m.role === 'tool');
    expect(tools).toEqual([
      { role: 'tool', tool_call_id: 't1', content: 'Error: exit status 2' },
      {
        role: 'tool',
        tool_call_id: 't2',
        content: [
          { type: 'text', text: 'Error: ' },
          { type: 'text', text: 'no such file' },
        ],
      },
      { role: 'tool', tool_call_id: 't3', content: 'fine' },
    ]);
  });
});

describe('reasoning', () => {
  const user = [{ role: 'user', content: 'hi' }];
  it.each([
    [{ type: 'enabled', budget_tokens: 1024 }, 'low'],
    [{ type: 'enabled', budget_tokens: 8192 }, 'medium'],
    [{ type: 'enabled', budget_tokens: 30_000 }, 'high'],
    [{ type: 'adaptive' }, 'medium'],
    [{ type: 'disabled' }, undefined],
  ])('Anthropic thinking %j asks for effort %s', (thinking, effort) => {
    const req = messagesRequest.parse({ model: 'm', max_tokens: 40_000, messages: user, thinking });
    expect(chatRequestFromAnthropic(req, 'm').reasoning_effort).toBe(effort);
  });

  it('writes an effort as a thinking budget below max_tokens, or drops it where Anthropic would refuse', () => {
    const ask = (extra: Record<string, unknown>) => {
      const dropped: string[] = [];
      const out = anthropicRequestFromChat(chatRequest.parse({ model: 'm', messages: user, ...extra }), 'm', dropped);
      return { thinking: out.thinking, max: out.max_tokens, dropped };
    };
    expect(ask({ reasoning_effort: 'high' })).toEqual({
      thinking: { type: 'enabled', budget_tokens: 16_384 },
      max: 16_384 + 4096,
      dropped: [],
    });
    expect(ask({ reasoning_effort: 'high', max_tokens: 5000 }).thinking).toEqual({
      type: 'enabled',
      budget_tokens: 4999,
    });
    expect(ask({ reasoning_effort: 'none' })).toEqual({ thinking: undefined, max: 4096, dropped: [] });
    for (const conflict of [
      { temperature: 0.3 },
      { top_p: 0.5 },
      { tool_choice: 'required', tools: [{ type: 'function', function: { name: 'f' } }] },
      { max_tokens: 1024 },
    ])
      expect(ask({ reasoning_effort: 'low', ...conflict })).toMatchObject({
        thinking: undefined,
        dropped: ['reasoning_effort'],
      });
  });

  it('writes reasoning for each OpenAI-protocol server in its own terms', () => {
    const chat = chatRequest.parse({
      model: 'm',
      reasoning_effort: 'none',
      messages: [
        { role: 'assistant', content: 'a', reasoning_content: 'r', reasoning_signature: 's' },
        { role: 'user', content: 'u' },
      ],
    });
    const turn = (p: Parameters<typeof reasoningForOpenAI>[1]) => reasoningForOpenAI(chat, p).messages[0];
    expect(turn('vllm')).toEqual({ role: 'assistant', content: 'a', reasoning: 'r' });
    expect(turn('llamacpp')).toEqual({ role: 'assistant', content: 'a', reasoning_content: 'r' });
    expect(turn('openai')).toEqual({ role: 'assistant', content: 'a' });
    expect(reasoningForOpenAI(chat, 'vllm')).toMatchObject({ chat_template_kwargs: { enable_thinking: false } });
    expect(reasoningForOpenAI(chat, 'vllm').reasoning_effort).toBeUndefined();
    expect(reasoningForOpenAI(chat, 'openai').reasoning_effort).toBe('none');
  });

  it("reads vLLM's `reasoning` as the canonical reasoning_content", () => {
    const r = chatResponse.parse({
      choices: [
        { index: 0, message: { role: 'assistant', content: 'x', reasoning: 'thought' }, finish_reason: 'stop' },
      ],
    });
    expect(r.choices[0]?.message.reasoning_content).toBe('thought');
  });

  it('Ollama think and thinking map to effort and reasoning', () => {
    const req = ollamaChatRequest.parse({
      model: 'm',
      think: 'high',
      messages: [
        { role: 'assistant', content: 'a', thinking: 't' },
        { role: 'user', content: 'u' },
      ],
    });
    const chat = chatRequestFromOllamaChat(req, 'm');
    expect(chat.reasoning_effort).toBe('high');
    expect(chat.messages[0]?.reasoning_content).toBe('t');
    const back = ollamaChatFromChat(chat, 'm', false);
    expect(back.think).toBe(true);
    expect(back.messages[0]?.thinking).toBe('t');
  });
});
