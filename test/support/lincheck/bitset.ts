/**
 * A fixed-size bitset with an incrementally maintained Zobrist hash, used by the checker to key its
 * memo of (linearized set, state). Two 32-bit hashes make accidental collisions rare; a collision
 * only costs an exact comparison (`equals`).
 */
export class Bitset {
  private readonly words: Uint32Array;
  private h1 = 0;
  private h2 = 0;

  constructor(
    readonly size: number,
    private readonly keys: ZobristKeys,
  ) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** Sets bit i (no-op when already set). */
  set(i: number): void {
    if (this.has(i)) return;
    this.words[i >>> 5]! |= 1 << (i & 31);
    this.toggleHash(i);
  }

  /** Clears bit i (no-op when already clear). */
  clear(i: number): void {
    if (!this.has(i)) return;
    this.words[i >>> 5]! &= ~(1 << (i & 31));
    this.toggleHash(i);
  }

  /** A copy that shares nothing mutable with this bitset. */
  clone(): Bitset {
    const b = new Bitset(this.size, this.keys);
    b.words.set(this.words);
    b.h1 = this.h1;
    b.h2 = this.h2;
    return b;
  }

  equals(other: Bitset): boolean {
    if (other.size !== this.size || other.h1 !== this.h1 || other.h2 !== this.h2) return false;
    for (let k = 0; k < this.words.length; k++) if (this.words[k] !== other.words[k]) return false;
    return true;
  }

  /** A short string that equal bitsets share (unequal ones almost never). */
  hashKey(): string {
    return `${this.h1.toString(36)}.${this.h2.toString(36)}`;
  }

  /** Hash of the set as if bit i were also set (i must currently be clear). */
  hashKeyWith(i: number): string {
    return `${(this.h1 ^ this.keys.a[i]!).toString(36)}.${(this.h2 ^ this.keys.b[i]!).toString(36)}`;
  }

  private toggleHash(i: number): void {
    this.h1 = (this.h1 ^ this.keys.a[i]!) >>> 0;
    this.h2 = (this.h2 ^ this.keys.b[i]!) >>> 0;
  }
}

/** Per-bit random keys for the Zobrist hash; deterministic (fixed LCG) so runs are reproducible. */
export interface ZobristKeys {
  readonly a: Uint32Array;
  readonly b: Uint32Array;
}

export function createZobristKeys(size: number): ZobristKeys {
  const a = new Uint32Array(size);
  const b = new Uint32Array(size);
  let x = 0x2545f491;
  const next = (): number => {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  for (let i = 0; i < size; i++) {
    a[i] = next();
    b[i] = next();
  }
  return { a, b };
}
