/**
 * contract §13 "Durable and bounded": the receiver (or the call check) queues exactly
 * `{"to","name","subject","conversationId","status"}`, and the SMS worker reads back whatever was
 * queued, by this release or another.
 */
import { describe, expect, it } from 'vitest';
import { smsQueueOver } from '../../../lambda/adapters/queue';
import { parseSmsQueueMessage, type SmsQueueMessage } from '../../../lambda/core/text-back/sms-message';

const message: SmsQueueMessage = {
  to: '+61491570156',
  name: 'Priya Raman',
  subject: 'Check-up reminders',
  conversationId: 'conv_01jz8k9a1b2c3d4e5f6g7h8j9k',
  status: 'no answer',
};

describe('the SMS queue', () => {
  it('sends exactly the five fields, with no delay, within the deadline it is given', async () => {
    const sent: { body: string; deadlineMs: number; delaySeconds?: number }[] = [];
    const queue = smsQueueOver(async (body, deadlineMs, delaySeconds) => {
      sent.push({ body, deadlineMs, ...(delaySeconds === undefined ? {} : { delaySeconds }) });
    });
    await queue.enqueue({ ...message, extra: 'dropped' } as SmsQueueMessage, 1234);
    expect(sent).toEqual([{ body: JSON.stringify(message), deadlineMs: 1234 }]);
    expect(Object.keys(JSON.parse(sent[0]!.body))).toEqual(['to', 'name', 'subject', 'conversationId', 'status']);
    expect(parseSmsQueueMessage(sent[0]!.body)).toEqual(message);
  });

  it('reads a message with a field a later release added', () => {
    expect(parseSmsQueueMessage(JSON.stringify({ ...message, attempts: 2 }))).toEqual(message);
  });

  it.each([
    ['not JSON', 'x'],
    ['an array', '[]'],
    ['a missing field', JSON.stringify({ ...message, to: undefined })],
    ['a status that is no CRM status', JSON.stringify({ ...message, status: 'busy' })],
    ['a name longer than the CRM allows', JSON.stringify({ ...message, name: 'n'.repeat(201) })],
    ['an empty conversation id', JSON.stringify({ ...message, conversationId: '' })],
    ['a huge body', JSON.stringify({ ...message, padding: 'p'.repeat(10_000) })],
  ])('refuses %s', (_label, body) => {
    expect(parseSmsQueueMessage(body)).toBeUndefined();
  });
});
