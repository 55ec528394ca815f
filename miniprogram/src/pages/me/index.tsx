import { Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { LoginGate } from '../../components/LoginGate';
import { api, chat, session } from '../../services/app';
import { useStore } from '../../services/store';

const ENTRIES = [
  { title: '我的保单', sub: '查看保障、申请理赔', url: '/pages/policies/index' },
  { title: '我的理赔', sub: '报案进度、补充材料', url: '/pages/claims/index' },
  { title: '我要报案', sub: '拍照上传理赔材料', url: '/pages/claims/new' },
  { title: '我的工单', sub: '客服跟进的问题', url: '/pages/tickets/index' },
];

function Me() {
  const customerId = useStore(session.store, (s) => s.customerId);
  const logout = async () => {
    const { confirm } = await Taro.showModal({ title: '退出登录', content: '确定退出当前账号吗？' });
    if (!confirm) return;
    await api.logout().catch(() => undefined);
    chat.reset();
    session.forget();
  };
  return (
    <View className='page'>
      <View className='card me__header'>
        <Text className='card__title'>安心保用户</Text>
        <Text className='muted small'>客户号 {customerId ?? '—'}</Text>
      </View>
      <View className='card'>
        {ENTRIES.map((e) => (
          <View key={e.url} className='cell me__entry' onClick={() => void Taro.navigateTo({ url: e.url })}>
            <View className='grow'>
              <Text className='block-title'>{e.title}</Text>
              <Text className='muted small'>{e.sub}</Text>
            </View>
            <Text className='cell__arrow'>›</Text>
          </View>
        ))}
        <View className='cell me__entry' onClick={() => void Taro.switchTab({ url: '/pages/chat/index' })}>
          <View className='grow'>
            <Text className='block-title'>联系客服</Text>
            <Text className='muted small'>7×24 小时智能客服，可转人工</Text>
          </View>
          <Text className='cell__arrow'>›</Text>
        </View>
      </View>
      <View className='btn btn--ghost btn--block' onClick={() => void logout()}>
        <Text>退出登录</Text>
      </View>
    </View>
  );
}

export default function MePage() {
  return (
    <LoginGate>
      <Me />
    </LoginGate>
  );
}
