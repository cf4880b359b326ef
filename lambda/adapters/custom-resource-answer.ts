/**
 * Sends a custom resource's answer to CloudFormation's pre-signed S3 URL (core/custom-resource.ts).
 * S3 refuses a pre-signed PUT whose Content-Type was not signed, so none is sent (the
 * cfn-response module does the same with an empty one). Bounded (contract §11): an answer that
 * never arrives holds the stack for an hour.
 */
import type { CustomResourceAnswer } from '../core/custom-resource';
import { CUSTOM_RESOURCE_ANSWER_TIMEOUT_MS } from '../core/time-budget';
import { Agent, request } from './undici-request';

class AnswerRejectedError extends Error {
  override name = 'AnswerRejectedError';
}

export function createAnswerSender(timeoutMs = CUSTOM_RESOURCE_ANSWER_TIMEOUT_MS) {
  const agent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs }, allowH2: false });
  return async (url: string, answer: CustomResourceAnswer): Promise<void> => {
    const body = JSON.stringify(answer);
    const { origin, pathname, search } = new URL(url);
    const response = await request(agent, {
      origin,
      path: `${pathname}${search}`,
      method: 'PUT',
      headers: { 'content-length': String(Buffer.byteLength(body)) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new AnswerRejectedError(`CloudFormation's answer URL returned HTTP ${response.statusCode}`);
    }
  };
}
