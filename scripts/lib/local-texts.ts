/**
 * `npm start`'s missed-call text-back (contract §13), when SMS_ORIGINATION_IDENTITY is set: the SMS
 * folder queue drained by the SMS worker's own handler (lambda/create-sms-worker.ts), its texts
 * sent through the real SDK client to the End User Messaging stand-in, which prints each one
 * instead of sending it (the SMS sink, beside the CRM sink). A text due in quiet hours waits in
 * the folder until they end, as it would on SQS.
 */
import type { SQSEvent } from 'aws-lambda';
import type { Env } from '../../lambda/config/env-fields';
import { createSmsWorker } from '../../lambda/create-sms-worker';
import { createFolderQueueDrainer, type FolderQueueDrainer } from '../../support/folder-queue';
import { type SentText, startSmsStandIn } from '../../support/stand-ins/sms';

export interface LocalTexts {
  drainer: FolderQueueDrainer;
  /** The SMS sink's endpoint (AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2). */
  endpoint: string;
  close(): Promise<void>;
}

/** Starts the sink and returns the drainer; `env` must already name the folders and the table. */
export async function startLocalTexts(directory: string, env: Env, print: (line: string) => void): Promise<LocalTexts> {
  const sink = await startSmsStandIn({ onMessage: (text) => print(describeText(text)) });
  // The SDK reads its endpoint from the process's environment, as on AWS it reads the region's.
  Object.assign(process.env, sink.env);
  const worker = createSmsWorker(env, {
    write: (line) => {
      const doc = JSON.parse(line) as Record<string, unknown>;
      if (doc.outcome !== 'sent')
        print(
          `[texts] ${String(doc.conversationId ?? '')} ${String(doc.outcome ?? doc.message)}: ${String(doc.reason ?? doc.error ?? '')}`.trimEnd(),
        );
    },
    // A folder has no visibility to change: the wait is kept below and applied by the drainer.
    deps: {
      delayRetry: async (_handle, seconds) => {
        wait = seconds;
      },
    },
  });
  let wait: number | undefined;
  let sequence = 0;
  const drainer = createFolderQueueDrainer(directory, async (body, receiveCount) => {
    sequence += 1;
    wait = undefined;
    const record = {
      messageId: `local-sms-${sequence}`,
      receiptHandle: `local-${sequence}`,
      body,
      attributes: { ApproximateReceiveCount: String(receiveCount) },
    };
    const { batchItemFailures } = await worker({ Records: [record] } as unknown as SQSEvent);
    if (batchItemFailures.length === 0) return 'done';
    return wait === undefined ? 'retry' : { retryInMs: wait * 1000 };
  });
  return { drainer, endpoint: sink.endpoint, close: () => sink.close() };
}

/** The text as it would reach the phone: on the developer's own terminal, where the CRM sink prints records too. */
function describeText(text: SentText): string {
  return `\n[sms sink] would text ${text.destination} from ${text.originationIdentity}:\n  ${text.body.replace(/\n/g, '\n  ')}\n`;
}
