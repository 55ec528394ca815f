import { Input, Text, View } from '@tarojs/components';
import { useEffect, useState, type ReactNode } from 'react';
import { session } from '../services/app';
import { useStore } from '../services/store';
import { ErrorState, Loading } from './StatusView';

/**
 * Pages that act for the customer render through this: it waits for the launch login, shows its error with a
 * retry, and in h5 (no wx.login) asks for a login code.
 */
export function LoginGate({ children }: { children: ReactNode }) {
  const status = useStore(session.store, (s) => s.status);
  const error = useStore(session.store, (s) => s.error);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (status === 'idle') void session.ensure();
  }, [status]);

  if (status === 'ready') return <>{children}</>;
  if (status === 'idle' || status === 'logging_in') {
    return <Loading text='正在登录…' />;
  }
  if (status === 'need_code') {
    const submit = async () => {
      if (!code.trim() || busy) return;
      setBusy(true);
      await session.loginWithCode(code).catch(() => undefined);
      setBusy(false);
    };
    return (
      <View className='login-gate card'>
        <Text className='login-gate__title'>请先登录</Text>
        <Text className='muted'>请在微信中打开安心保小程序。浏览器预览时，请输入登录码（本地演示服务器接受任意登录码，同一登录码即同一位用户）。</Text>
        <Input
          className='input login-gate__input'
          placeholder='登录码'
          value={code}
          onInput={(e) => setCode(e.detail.value)}
          onConfirm={() => void submit()}
        />
        <View className={`btn btn--primary ${busy ? 'btn--disabled' : ''}`} onClick={() => void submit()}>
          <Text>{busy ? '登录中…' : '登录'}</Text>
        </View>
      </View>
    );
  }
  return <ErrorState message={error ?? '登录失败'} onRetry={() => void session.ensure()} />;
}
