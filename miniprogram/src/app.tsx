import { useLaunch } from '@tarojs/taro';
import type { PropsWithChildren } from 'react';
import { session } from './services/app';
import './app.css';

/** Log in on launch; pages that act for the customer wait for it (components/LoginGate). */
function App({ children }: PropsWithChildren) {
  useLaunch(() => {
    void session.ensure();
  });
  return children;
}

export default App;
