/** The parts of the End User Messaging SMS (Pinpoint SMS Voice v2) client the SMS adapter uses; see `sdk/s3.ts` for why this module exists. */
export { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
