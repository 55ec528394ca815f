import { Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { LoginGate } from '../../components/LoginGate';
import { RemoteView } from '../../components/StatusView';
import { TICKET_TAG } from '../../components/tags';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { formatDateTime } from '../../services/format';

export default function TicketDetailPage() {
  const id = useRouter().params.id ?? '';
  const ticket = useRemote(() => api.ticket(id), [id]);
  return (
    <LoginGate>
      <RemoteView remote={ticket}>
        {(t) => (
          <View className='page'>
            <View className='card'>
              <View className='row row--between'>
                <Text className='card__title grow'>{t.subject}</Text>
                <Text className={TICKET_TAG[t.status] ?? 'tag'}>{t.statusLabel}</Text>
              </View>
              <Text className='card__sub'>工单号 {t.number}</Text>
              <Text className='muted small block'>创建于 {formatDateTime(t.createdAt)}</Text>
              {t.resolvedAt && <Text className='muted small block'>解决于 {formatDateTime(t.resolvedAt)}</Text>}
            </View>
            <Text className='section-title'>客服回复</Text>
            <View className='card timeline'>
              {t.replies.length === 0 && <Text className='muted'>客服正在处理，有进展会第一时间回复您。</Text>}
              {[...t.replies].reverse().map((r, i) => (
                <View key={`${r.at}-${i}`} className={`timeline__item ${i === 0 ? 'timeline__item--current' : ''}`}>
                  <Text className='timeline__note'>{r.text}</Text>
                  <Text className='timeline__time'>{formatDateTime(r.at)}</Text>
                </View>
              ))}
            </View>
            <View className='btn btn--ghost btn--block' onClick={() => void Taro.switchTab({ url: '/pages/chat/index' })}>
              <Text>继续咨询客服</Text>
            </View>
          </View>
        )}
      </RemoteView>
    </LoginGate>
  );
}
