/** API Gateway events as Lambda receives them, for handler tests. */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

/** An HTTP API (payload 2.0) event: header names in lower case, as API Gateway sends them. */
export function apiGatewayEvent(body: string, headers: Record<string, string>, sourceIp = '127.0.0.1'): APIGatewayProxyEventV2 {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/elevenlabs',
    rawPath: '/webhooks/elevenlabs',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...lower },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'example.execute-api.ap-southeast-2.amazonaws.com',
      domainPrefix: 'example',
      http: { method: 'POST', path: '/webhooks/elevenlabs', protocol: 'HTTP/1.1', sourceIp, userAgent: 'test' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: 'POST /webhooks/elevenlabs',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

/** A REST API (payload 1.0) event: header names as the caller sent them, maybe base64 body. */
export function restApiEvent(
  body: string,
  headers: Record<string, string>,
  options: { base64?: boolean; sourceIp?: string } = {},
): APIGatewayProxyEvent {
  return {
    resource: '/webhooks/elevenlabs',
    path: '/webhooks/elevenlabs',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: 'rest-req',
      identity: { sourceIp: options.sourceIp ?? '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
    body: options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
  };
}
