// Types of stats.mjs (plain JavaScript, run by the benches as they are).

export declare const sum: (xs: readonly number[]) => number;
export declare const mean: (xs: readonly number[]) => number;
export declare function median(xs: readonly number[]): number;
export declare function medianInterval(xs: readonly number[], confidence?: number): [number, number] | undefined;
export declare const min: (xs: readonly number[]) => number;
export declare const max: (xs: readonly number[]) => number;
export declare const maxAbs: (xs: readonly number[]) => number;
export declare function stdev(xs: readonly number[]): number;
