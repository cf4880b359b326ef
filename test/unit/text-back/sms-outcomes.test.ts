/**
 * contract §13: how a SendTextMessage error is treated, and which metric each outcome of the SMS
 * worker moves (one exhaustive mapping each).
 */
import { describe, expect, it } from 'vitest';
import { MetricName, smsMetrics } from '../../../lambda/core/metrics';
import { comesBack, type TextBackOutcome } from '../../../lambda/core/text-back/send-text-back';
import { classifySmsError, describeSmsError, type SmsErrorFacts } from '../../../lambda/core/text-back/sms-errors';

describe('classifySmsError', () => {
  it.each<[SmsErrorFacts, ReturnType<typeof classifySmsError>]>([
    [{ name: 'ConflictException', httpStatus: 400, reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT' }, 'opted_out'],
    [{ name: 'ConflictException', httpStatus: 400, reason: 'RESOURCE_NOT_ACTIVE' }, 'refused'],
    [{ name: 'ThrottlingException', httpStatus: 400, throttling: true }, 'unavailable'],
    [{ name: 'ThrottlingException', httpStatus: 400 }, 'unavailable'],
    [{ name: 'SomethingNew', httpStatus: 429 }, 'unavailable'],
    [{ name: 'InternalServerException', httpStatus: 500 }, 'unavailable'],
    [{ name: 'ServiceUnavailable', httpStatus: 503 }, 'unavailable'],
    [{ name: 'TimeoutError' }, 'unavailable'],
    [{ name: 'AbortError' }, 'unavailable'],
    [{ name: 'ECONNREFUSED' }, 'unavailable'],
    [{ name: 'ValidationException', httpStatus: 400, reason: 'FIELD_VALIDATION_FAILED' }, 'refused'],
    [{ name: 'AccessDeniedException', httpStatus: 400, reason: 'ACCOUNT_DISABLED' }, 'refused'],
    [{ name: 'ResourceNotFoundException', httpStatus: 400 }, 'refused'],
    [{ name: 'ServiceQuotaExceededException', httpStatus: 400, reason: 'MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT' }, 'refused'],
    [{ name: 'UnrecognizedClientException', httpStatus: 403 }, 'refused'],
  ])('%j → %s', (facts, kind) => {
    expect(classifySmsError(facts)).toBe(kind);
  });

  it.each<[SmsErrorFacts, string]>([
    [
      { name: 'ValidationException', httpStatus: 400, reason: 'FIELD_VALIDATION_FAILED' },
      'ValidationException (FIELD_VALIDATION_FAILED, HTTP 400)',
    ],
    [{ name: 'InternalServerException', httpStatus: 500 }, 'InternalServerException (HTTP 500)'],
    [{ name: 'AbortError' }, 'AbortError'],
  ])('describes %j as %s', (facts, text) => {
    expect(describeSmsError(facts)).toBe(text);
  });
});

describe('smsMetrics and comesBack', () => {
  const facts = {};
  it.each<[TextBackOutcome, Record<string, number>, boolean]>([
    [{ kind: 'sent', facts }, { [MetricName.SmsSent]: 1 }, false],
    [{ kind: 'skipped', reason: 'recently_texted', facts }, { [MetricName.SmsSkipped]: 1 }, false],
    [{ kind: 'opted_out', facts }, { [MetricName.SmsOptedOut]: 1 }, false],
    [{ kind: 'failed', deadLettered: true, facts }, { [MetricName.SmsFailed]: 1 }, false],
    [{ kind: 'failed', deadLettered: false, facts }, { [MetricName.SmsFailed]: 1 }, true],
    [{ kind: 'deferred', untilMs: 0, facts }, {}, true],
    [{ kind: 'retry', facts }, {}, true],
  ])('%j', (outcome, metrics, back) => {
    expect(smsMetrics(outcome)).toEqual(metrics);
    expect(comesBack(outcome)).toBe(back);
  });
});
