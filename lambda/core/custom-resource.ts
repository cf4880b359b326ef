/**
 * A CloudFormation custom resource's request and the answer it waits for
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html and
 * crpg-ref-responses.html): CloudFormation invokes the function with the request and waits, up to
 * an hour, for a PUT of the answer to the request's pre-signed `ResponseURL`. A request that
 * cannot be parsed cannot be answered; anything else must be, SUCCESS or FAILED.
 */
import * as z from 'zod/mini';
import './zod-messages';

/** Fields CloudFormation fills are ARNs and ids; far below this. */
const MAX_FIELD = 2048;
/** A pre-signed S3 URL is ~1–2 KB. */
const MAX_URL = 8192;
/** CloudFormation refuses an answer over 4,096 bytes; the reason is cut well below that. */
const MAX_REASON = 1000;

const field = z.string().check(z.minLength(1), z.maxLength(MAX_FIELD));

/**
 * The request's schema. `allowLoopbackHttp` admits an http answer URL on 127.0.0.1 (the tests'
 * stand-in); off on Lambda, where that address is the Runtime API's.
 */
export function customResourceRequestSchema({ allowLoopbackHttp }: { allowLoopbackHttp: boolean }) {
  return z.object({
    RequestType: z.enum(['Create', 'Update', 'Delete']),
    ResponseURL: z.string().check(
      z.maxLength(MAX_URL),
      z.refine(
        (value) => isAnswerUrl(value, allowLoopbackHttp),
        allowLoopbackHttp ? 'must be an https URL (or http on 127.0.0.1)' : 'must be an https URL',
      ),
    ),
    StackId: field,
    RequestId: field,
    LogicalResourceId: field,
    PhysicalResourceId: z.optional(field),
    ResourceProperties: z.optional(z.record(z.string(), z.unknown())),
  });
}

export type CustomResourceRequest = z.output<ReturnType<typeof customResourceRequestSchema>>;

export interface CustomResourceAnswer {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, string>;
}

/** The answer's body; `Reason` is cut to fit CloudFormation's limit. */
export function customResourceAnswer(
  request: CustomResourceRequest,
  result: { status: 'SUCCESS' | 'FAILED'; physicalResourceId: string; reason?: string; data?: Record<string, string> },
): CustomResourceAnswer {
  return {
    Status: result.status,
    ...(result.reason === undefined ? {} : { Reason: result.reason.slice(0, MAX_REASON) }),
    PhysicalResourceId: result.physicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    ...(result.data === undefined ? {} : { Data: result.data }),
  };
}

/** CloudFormation's pre-signed URLs are https. */
function isAnswerUrl(value: string, allowLoopbackHttp: boolean): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (allowLoopbackHttp && url.protocol === 'http:' && url.hostname === '127.0.0.1');
}
