import type { InboundMessage } from '../../conversation/types';
import type { OfficialAccountInbound } from '../../wechat/official-account-messages';

/** Official Account push → the pipeline's one inbound shape. Returns undefined for pushes the bot ignores. */
export function toInboundMessage(push: OfficialAccountInbound, receivedAt: Date): InboundMessage | undefined {
  const base = { channel: 'official-account' as const, userId: push.fromUserName, dedupeKey: push.dedupeKey, receivedAt };
  switch (push.type) {
    case 'text':
      return { ...base, kind: 'text', text: push.content };
    case 'voice':
      return { ...base, kind: 'voice', text: push.recognition || undefined, media: { id: push.mediaId, format: push.format } };
    case 'image':
      return { ...base, kind: 'image', media: { id: push.mediaId, url: push.picUrl } };
    case 'video':
    case 'shortvideo':
      return { ...base, kind: 'video', media: { id: push.mediaId } };
    case 'location':
      return { ...base, kind: 'location', location: { latitude: push.latitude, longitude: push.longitude, label: push.label } };
    case 'link':
      return { ...base, kind: 'link', link: { title: push.title, description: push.description, url: push.url } };
    case 'subscribe':
      return { ...base, kind: 'event', event: { type: 'subscribe', key: push.sceneId } };
    case 'unsubscribe':
      return { ...base, kind: 'event', event: { type: 'unsubscribe' } };
    case 'scan':
      return { ...base, kind: 'event', event: { type: 'scan', key: push.sceneId } };
    case 'menu_click':
      return { ...base, kind: 'event', event: { type: 'menu_click', key: push.eventKey } };
    case 'menu_view':
      return { ...base, kind: 'event', event: { type: 'menu_view', url: push.url } };
    default:
      return undefined;
  }
}
