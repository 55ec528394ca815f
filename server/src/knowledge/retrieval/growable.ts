/** Append-only typed arrays that double their capacity: compact, cache-friendly storage with amortised O(1) push. */

type TypedArrayConstructor<T> = { new (length: number): T };
interface NumericArray {
  length: number;
  [index: number]: number;
  set(source: ArrayLike<number>, offset?: number): void;
  subarray(begin?: number, end?: number): this;
}

export class Growable<T extends NumericArray> {
  data: T;
  length = 0;

  constructor(
    private readonly kind: TypedArrayConstructor<T>,
    initialCapacity = 16,
  ) {
    this.data = new kind(Math.max(4, initialCapacity));
  }

  push(value: number): number {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length] = value;
    return this.length++;
  }

  /** Sets an element, growing (zero-filled) when the index is past the end. */
  put(index: number, value: number): void {
    if (index >= this.data.length) this.reserve(index + 1);
    if (index >= this.length) this.length = index + 1;
    this.data[index] = value;
  }

  get(index: number): number {
    return index < this.length ? this.data[index] : 0;
  }

  reserve(capacity: number): void {
    if (capacity <= this.data.length) return;
    let next = this.data.length * 2;
    while (next < capacity) next *= 2;
    const grown = new this.kind(next);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }

  /** The filled part, as a view (no copy). */
  view(): T {
    return this.data.subarray(0, this.length);
  }
}

export const growableInt32 = (capacity?: number) => new Growable(Int32Array, capacity);
export const growableFloat32 = (capacity?: number) => new Growable(Float32Array, capacity);
export const growableUint8 = (capacity?: number) => new Growable(Uint8Array, capacity);
export const growableUint16 = (capacity?: number) => new Growable(Uint16Array, capacity);
