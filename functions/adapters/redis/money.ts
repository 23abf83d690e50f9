/** Redis counts money in integer units of 1e-10 USD (HINCRBY is exact; HINCRBYFLOAT is not). */
const USD_UNITS = 1e10;
export const toUnits = (usd: number): number => Math.round(usd * USD_UNITS);
export const fromUnits = (units: number | string | null | undefined): number => Number(units ?? 0) / USD_UNITS;
