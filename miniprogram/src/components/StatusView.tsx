import { Text, View } from '@tarojs/components';
import type { ReactNode } from 'react';

/** The three states every list and detail has besides "here it is": loading, failed (with retry), empty. */
export function Loading({ text = '加载中…' }: { text?: string }) {
  return (
    <View className='status status--loading'>
      <View className='spinner' />
      <Text className='status__text'>{text}</Text>
    </View>
  );
}

export function ErrorState({ message, onRetry, children }: { message: string; onRetry?: () => void; children?: ReactNode }) {
  return (
    <View className='status status--error'>
      <Text className='status__icon'>!</Text>
      <Text className='status__text'>{message}</Text>
      {onRetry && (
        <View className='btn btn--ghost status__action' onClick={onRetry}>
          <Text>重试</Text>
        </View>
      )}
      {children}
    </View>
  );
}

export function Empty({ text, children }: { text: string; children?: ReactNode }) {
  return (
    <View className='status status--empty'>
      <Text className='status__icon'>○</Text>
      <Text className='status__text'>{text}</Text>
      {children}
    </View>
  );
}

/** Renders loading / error / empty, or the content once there is some. */
export function RemoteView<T>({
  remote,
  isEmpty,
  emptyText,
  emptyAction,
  children,
}: {
  remote: { data: T | undefined; loading: boolean; error: string | undefined; reload(): Promise<void> };
  isEmpty?: (data: T) => boolean;
  emptyText?: string;
  emptyAction?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (remote.error) return <ErrorState message={remote.error} onRetry={() => void remote.reload()} />;
  if (remote.data === undefined) return <Loading />;
  if (isEmpty?.(remote.data)) return <Empty text={emptyText ?? '暂无内容'}>{emptyAction}</Empty>;
  return <>{children(remote.data)}</>;
}
