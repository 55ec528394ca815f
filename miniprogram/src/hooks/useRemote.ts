import { useCallback, useEffect, useRef, useState } from 'react';
import { messageOf } from '../services/errors';

export interface Remote<T> {
  data: T | undefined;
  loading: boolean;
  error: string | undefined;
  reload(): Promise<void>;
}

/** Load something on mount (and on `reload`): data, loading and error for the page's three states. */
export function useRemote<T>(load: () => Promise<T>, deps: unknown[] = []): Remote<T> {
  const [data, setData] = useState<T>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const alive = useRef(true);
  const generation = useRef(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    setError(undefined);
    try {
      const value = await run();
      if (alive.current && mine === generation.current) setData(value);
    } catch (err) {
      if (alive.current && mine === generation.current) setError(messageOf(err));
    } finally {
      if (alive.current && mine === generation.current) setLoading(false);
    }
  }, [run]);

  useEffect(() => {
    alive.current = true;
    void reload();
    return () => {
      alive.current = false;
    };
  }, [reload]);

  return { data, loading, error, reload };
}
