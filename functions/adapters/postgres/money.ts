import { roundUsd } from '../../core/usage-totals';

/** Money as exact decimal text to 1e-10 USD, as the numeric(30, 10) columns keep it. */
export const usdText = (usd: number): string => roundUsd(usd).toFixed(10);
