/** Authentication and authorisation denials. Messages name no key: not even a masked one. */
import { GatewayError } from '../errors.js';

export const authErrors = {
  missingKey: () =>
    new GatewayError(
      401,
      'authentication',
      'You must provide an API key (Authorization: Bearer <key>, or x-api-key).',
      { code: 'missing_api_key', shouldRetry: false },
    ),
  invalidKey: () =>
    new GatewayError(401, 'authentication', 'Incorrect API key provided.', {
      code: 'invalid_api_key',
      shouldRetry: false,
    }),
  modelForbidden: (tenant: string, model: string) =>
    new GatewayError(403, 'permission', `Tenant '${tenant}' is not allowed to use the model '${model}'.`, {
      param: 'model',
      code: 'model_not_allowed',
      shouldRetry: false,
    }),
  routeForbidden: (tenant: string, model: string) =>
    new GatewayError(403, 'permission', `Tenant '${tenant}' is not allowed to use the route serving '${model}'.`, {
      param: 'model',
      code: 'tenant_not_allowed',
      shouldRetry: false,
    }),
  modelNotCovered: (tenant: string, model: string) =>
    new GatewayError(
      403,
      'permission',
      `Tenant '${tenant}' is not allowed to use the model '${model}': no RoutePolicy covers it and the gateway denies what none covers.`,
      { param: 'model', code: 'model_not_allowed', shouldRetry: false },
    ),
};
