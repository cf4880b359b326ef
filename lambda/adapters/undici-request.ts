/**
 * The two parts of undici the CRM client and the ElevenLabs API use, the connection pool
 * (`Agent`) and `request`, without the package's index, which loads everything undici has
 * (fetch, WebSocket, the cache stores, the mocks, every interceptor): its chunk was 534 KiB,
 * these two are ~240 KiB (scripts/lib/undici-http1-only.ts), and on the receiver both load on
 * the first event's critical path (bench figure 9, issue 20). undici's
 * `request(url, options)` is this same function called on the dispatcher with the URL's
 * origin and path (undici's index.js, `makeDispatcher`).
 */
import type { Dispatcher } from 'undici';
import dispatcherRequest from 'undici/lib/api/api-request.js';
import Agent from 'undici/lib/dispatcher/agent.js';

export { Agent };

export function request(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return dispatcherRequest.call(dispatcher, options);
}
