import { createStore } from '../src/services/store';

describe('createStore', () => {
  it('merges partial updates and tells subscribers', () => {
    const store = createStore({ a: 1, b: 'x' });
    const seen: unknown[] = [];
    const unsubscribe = store.subscribe((s) => seen.push(s));
    store.set({ a: 2 });
    store.set((s) => ({ b: `${s.b}y` }));
    expect(store.get()).toEqual({ a: 2, b: 'xy' });
    expect(seen).toEqual([{ a: 2, b: 'x' }, { a: 2, b: 'xy' }]);
    unsubscribe();
    store.set({ a: 3 });
    expect(seen).toHaveLength(2);
  });

  it('does not notify (or replace the state object) when nothing changed', () => {
    const list = [1];
    const store = createStore({ list });
    const before = store.get();
    const listener = jest.fn();
    store.subscribe(listener);
    store.set({ list });
    expect(listener).not.toHaveBeenCalled();
    expect(store.get()).toBe(before);
  });

  it('lets a listener unsubscribe another while notifying', () => {
    const store = createStore({ n: 0 });
    const second = jest.fn();
    let off2 = () => {};
    store.subscribe(() => off2());
    off2 = store.subscribe(second) as () => void;
    store.set({ n: 1 });
    expect(second).toHaveBeenCalledTimes(1);
    store.set({ n: 2 });
    expect(second).toHaveBeenCalledTimes(1);
  });
});
