/** Live updates: every page reads its data with `useApi`, which refreshes while "live" is on. */
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { getJson } from './api';
import { config } from './config';

interface Live {
  live: boolean;
  setLive: (live: boolean) => void;
}

const LiveContext = createContext<Live>({ live: true, setLive: () => undefined });

export function LiveProvider({ children }: { children: ComponentChildren }) {
  const [live, setLive] = useState(true);
  return <LiveContext.Provider value={{ live, setLive }}>{children}</LiveContext.Provider>;
}

export const useLive = (): Live => useContext(LiveContext);

export interface ApiState<T> {
  data: T | undefined;
  /** The last failure to read; the previous data, if any, stays shown. */
  error: string | undefined;
  /** HTTP status of the last failure. */
  status: number | undefined;
  loading: boolean;
  updatedAt: number | undefined;
  refresh: () => void;
}

interface Loaded<T> {
  path: string;
  data?: T;
  error?: string;
  status?: number;
  updatedAt?: number;
}

/**
 * GETs `path` from the API, then again every refresh interval (or `interval` milliseconds, when longer)
 * while live and the tab is visible.
 */
export function useApi<T>(path: string, options: { live?: boolean; interval?: number } = {}): ApiState<T> {
  const { live } = useLive();
  const polling = live && options.live !== false;
  const every = Math.max(config.refreshInterval, options.interval ?? 0);
  const [loaded, setLoaded] = useState<Loaded<T>>({ path });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const load = async (): Promise<void> => {
      if (document.visibilityState !== 'hidden' || timer === undefined) {
        try {
          const data = await getJson<T>(path, controller.signal);
          if (!cancelled) setLoaded({ path, data, updatedAt: Date.now() });
        } catch (error) {
          if (cancelled) return;
          const failure = error as Error & { status?: number };
          setLoaded((previous) => ({
            ...(previous.path === path ? previous : { path }),
            error: failure.message,
            status: failure.status,
          }));
        }
      }
      if (!cancelled && polling) timer = setTimeout(() => void load(), every);
    };
    void load();
    return () => {
      cancelled = true;
      controller.abort();
      clearTimeout(timer);
    };
  }, [path, polling, every, nonce]);
  const refresh = useCallback(() => setNonce((value) => value + 1), []);
  const current = loaded.path === path ? loaded : { path };
  return {
    data: current.data,
    error: current.error,
    status: current.status,
    loading: current.data === undefined && current.error === undefined,
    updatedAt: current.updatedAt,
    refresh,
  };
}
