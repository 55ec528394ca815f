import { Image, Input, ScrollView, Text, View } from '@tarojs/components';
import Taro, { useDidHide, useDidShow } from '@tarojs/taro';
import { useCallback, useEffect, useRef, useState } from 'react';
import { LoginGate } from '../../components/LoginGate';
import { ErrorState, Loading } from '../../components/StatusView';
import { chat, chatImages } from '../../services/app';
import type { ChatItem } from '../../services/chat';
import { messageOf } from '../../services/errors';
import { pickImages } from '../../services/files';
import { formatClock } from '../../services/format';
import { openPage } from '../../services/platform';
import { useStore } from '../../services/store';
import type { ConversationState } from '../../services/types';
import './index.css';

const STATE_TEXT: Record<ConversationState, string> = {
  bot: '智能客服 7×24 小时在线',
  waiting_agent: '正在为您转接人工客服，请稍候…',
  human: '人工客服已接入',
};

const QUICK_QUESTIONS = ['怎么报案', '理赔需要什么材料', '怎么退保', '转人工'];

/** Past the end of any conversation: the scroll view clamps it to the bottom. */
const BOTTOM = 1_000_000;

/**
 * A picture in a message. The user's photos are private on the server, so they are downloaded with the session
 * first (loading, then the picture or a tap-to-retry); other pictures show directly. Tap to see it full screen.
 */
function ChatPhoto({ url, onLoad }: { url: string; onLoad?: () => void }) {
  const loaded = useStore(chatImages.store, (s) => s.images[url]);
  const shown = loaded ?? chatImages.stateOf(url);
  useEffect(() => {
    void chatImages.load(url);
  }, [url]);
  if (!shown || shown.status === 'loading') {
    return (
      <View className='msg__image-box msg__image-box--loading'>
        <Text className='muted small'>图片加载中…</Text>
      </View>
    );
  }
  if (shown.status === 'failed') {
    return (
      <View className='msg__image-box msg__image-box--failed' onClick={() => void chatImages.retry(url)}>
        <Text className='small'>图片加载失败，点击重试</Text>
      </View>
    );
  }
  return (
    <Image
      className='msg__image'
      src={shown.src}
      mode='widthFix'
      onLoad={onLoad}
      onClick={() => void Taro.previewImage({ urls: [shown.src], current: shown.src })}
    />
  );
}

function Message({ item, onImageLoad }: { item: ChatItem; onImageLoad?: () => void }) {
  const mine = item.author === 'user';
  return (
    <View className={`msg ${mine ? 'msg--mine' : 'msg--theirs'} msg--${item.author}`}>
      {!mine && <Text className='msg__who'>{item.author === 'agent' ? '人工客服' : '智能客服'}</Text>}
      <View className='msg__bubble'>
        {item.imageUrl && <ChatPhoto url={item.imageUrl} onLoad={onImageLoad} />}
        {item.text !== '' && <Text className='msg__text' userSelect>{item.text}</Text>}
        {item.choices && item.choices.length > 0 && (
          <View className='msg__choices'>
            {item.choices.map((choice) => (
              <View key={choice.number} className='choice-chip' onClick={() => void chat.choose(choice.number)}>
                <Text className='choice-chip__number'>{choice.number}</Text>
                <Text className='choice-chip__label'>{choice.label}</Text>
              </View>
            ))}
          </View>
        )}
        {item.links && item.links.length > 0 && (
          <View className='msg__links'>
            {item.links.map((link) => (
              <View key={link.page} className='link-btn' onClick={() => openPage(link.page)}>
                <Text>{link.title}</Text>
              </View>
            ))}
          </View>
        )}
      </View>
      <View className='msg__meta'>
        {item.localStatus === 'sending' && <Text className='muted small'>发送中…</Text>}
        {item.localStatus === 'failed' && (
          <View className='msg__retry' onClick={() => void chat.retry(item.clientMessageId!)}>
            <Text>{item.localError ? `${item.localError}，点击重发` : '发送失败，点击重发'}</Text>
          </View>
        )}
        {item.localStatus === 'rejected' && (
          <View className='msg__retry' onClick={() => chat.dismiss(item.clientMessageId!)}>
            <Text>{item.localError ?? '发送失败'}（点击移除）</Text>
          </View>
        )}
        {!item.localStatus && <Text className='muted small'>{formatClock(item.createdAt)}</Text>}
      </View>
    </View>
  );
}

function Conversation() {
  const messages = useStore(chat.store, (s) => s.messages);
  const state = useStore(chat.store, (s) => s.state);
  const loaded = useStore(chat.store, (s) => s.loaded);
  const loadError = useStore(chat.store, (s) => s.loadError);
  const offline = useStore(chat.store, (s) => s.offline);
  const [draft, setDraft] = useState('');
  const [picking, setPicking] = useState(false);

  useEffect(() => {
    if (!chat.store.get().loaded) chat.load().catch(() => undefined);
    chat.start();
    return () => chat.stop();
  }, []);
  useDidShow(() => chat.start());
  useDidHide(() => chat.stop());

  const send = (text: string) => {
    if (!text.trim()) return;
    setDraft('');
    void chat.send(text);
  };

  /** One photo from the album or camera; it appears at once and uploads in the background. */
  const sendPhoto = async () => {
    if (picking) return;
    setPicking(true);
    try {
      const [photo] = await pickImages(1);
      if (photo) void chat.sendImage(photo);
    } catch (err) {
      const errMsg = (err as { errMsg?: string })?.errMsg ?? '';
      if (!/cancel/.test(errMsg)) void Taro.showToast({ title: messageOf(err), icon: 'none' });
    } finally {
      setPicking(false);
    }
  };

  // Keep the newest message in view: on opening (history), on each new message, and when a picture above it has
  // loaded and grown. scroll-into-view ran once, before pictures and long answers were laid out, and left the chat
  // opened in the middle of the history; scroll-top past the end is clamped to the bottom on both weapp and h5 (one
  // more each time, as an unchanged value would not scroll again).
  const [scrollTop, setScrollTop] = useState(BOTTOM);
  const atBottom = useRef(true);
  const listHeight = useRef(0);
  const toBottom = useCallback(() => setScrollTop((t) => t + 1), []);
  useEffect(() => {
    if (!messages.length) return;
    atBottom.current = true;
    const timer = setTimeout(toBottom, 60);
    return () => clearTimeout(timer);
  }, [messages.length, loaded, toBottom]);
  const onScroll = (e: { detail: { scrollTop: number; scrollHeight: number } }) => {
    const { scrollTop: top, scrollHeight } = e.detail;
    if (!listHeight.current) {
      Taro.createSelectorQuery()
        .select('.chat__list')
        .boundingClientRect((rect) => {
          const r = Array.isArray(rect) ? rect[0] : rect;
          if (r?.height) listHeight.current = r.height;
        })
        .exec();
    }
    // Read by a picture that finishes loading: follow the bottom only if the customer was there (not reading back).
    atBottom.current = scrollHeight - top - (listHeight.current || 600) < 160;
  };
  const onImageLoad = useCallback(() => {
    if (atBottom.current) toBottom();
  }, [toBottom]);
  return (
    <View className='chat' style={{ height: process.env.TARO_ENV === 'h5' ? '100%' : '100vh' }}>
      <View className={`chat__status chat__status--${state}`}>
        <Text className='chat__status-text'>{offline ? '网络不稳定，正在重新连接…' : STATE_TEXT[state]}</Text>
      </View>
      <ScrollView className='chat__list' scrollY scrollTop={scrollTop} scrollWithAnimation onScroll={onScroll}>
        {!loaded && !loadError && <Loading />}
        {loadError && !loaded && <ErrorState message={loadError} onRetry={() => void chat.load().catch(() => undefined)} />}
        {loaded && messages.length === 0 && (
          <View className='chat__welcome'>
            <Text className='chat__welcome-title'>您好，我是安心保智能客服</Text>
            <Text className='muted'>可以问我投保、理赔、保单、退保等问题，也可以随时转人工。</Text>
            <View className='chips'>
              {QUICK_QUESTIONS.map((q) => (
                <View key={q} className='chip' onClick={() => send(q)}>
                  <Text>{q}</Text>
                </View>
              ))}
            </View>
          </View>
        )}
        {messages.map((item, i) => (
          <View key={item.id} id={`m${i}`}>
            <Message item={item} onImageLoad={onImageLoad} />
          </View>
        ))}
        <View className='chat__spacer' />
      </ScrollView>
      <View className='chat__bar'>
        <View
          className={`chat__photo ${picking ? 'chat__photo--busy' : ''}`}
          ariaLabel='发送图片'
          ariaRole='button'
          onClick={() => void sendPhoto()}
        >
          <Text>{picking ? '选择中' : '图片'}</Text>
        </View>
        <Input
          className='chat__input'
          value={draft}
          placeholder='请输入您的问题'
          confirmType='send'
          maxlength={500}
          onInput={(e) => setDraft(e.detail.value)}
          onConfirm={(e) => send(e.detail.value)}
        />
        <View className={`chat__send ${draft.trim() ? '' : 'chat__send--idle'}`} onClick={() => send(draft)}>
          <Text>发送</Text>
        </View>
      </View>
    </View>
  );
}

export default function ChatPage() {
  return (
    <LoginGate>
      <Conversation />
    </LoginGate>
  );
}
