import { Text, View } from '@tarojs/components';
import Taro, { usePullDownRefresh } from '@tarojs/taro';
import { LoginGate } from '../../components/LoginGate';
import { RemoteView } from '../../components/StatusView';
import { TICKET_TAG } from '../../components/tags';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { ApiError } from '../../services/errors';
import { formatDateTime } from '../../services/format';

function Tickets() {
  // Without the agent desk (WeCom) the server has no ticket routes, and nobody can have a ticket: an empty list.
  const tickets = useRemote(() =>
    api.tickets().then(
      (r) => r.items,
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 404 && err.code === 'not_found') return [];
        throw err;
      },
    ),
  );
  usePullDownRefresh(() => void tickets.reload().finally(() => Taro.stopPullDownRefresh()));
  return (
    <View className='page'>
      <RemoteView
        remote={tickets}
        isEmpty={(items) => items.length === 0}
        emptyText='没有工单。人工客服暂时无法解答的问题会在这里跟进。'
      >
        {(items) =>
          items.map((t) => (
            <View key={t.number} className='card' onClick={() => void Taro.navigateTo({ url: `/pages/tickets/detail?id=${encodeURIComponent(t.number)}` })}>
              <View className='row row--between'>
                <Text className='strong grow'>{t.subject}</Text>
                <Text className={TICKET_TAG[t.status] ?? 'tag'}>{t.statusLabel}</Text>
              </View>
              <Text className='muted small'>
                工单号 {t.number} · 更新于 {formatDateTime(t.updatedAt)}
              </Text>
              {t.replies.length > 0 && <Text className='card__sub'>最新回复：{t.replies[t.replies.length - 1].text}</Text>}
            </View>
          ))
        }
      </RemoteView>
    </View>
  );
}

export default function TicketsPage() {
  return (
    <LoginGate>
      <Tickets />
    </LoginGate>
  );
}
